"""``run_consulta`` without the stack: an in-memory gateway records what the flow reserved, ran and
committed, so the money rules are checked on the service itself (the stack tests check them end to end).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from bigtech import idempotency
from bigtech.audited import Actor
from bigtech.credits import Hold
from bigtech.errors import Conflict, PaymentRequired
from bigtech.plugin_loader.routing import Route
from bigtech.plugins import PluginResult, SourceAttempt, Status, validate_input
from bigtech.uow import UnitOfWork
from tests.support.actors import load_router

T = TypeVar("T")
DB = "tenant_acme"
PRICE = 7
BODY = {"category": "cadastral", "document": "52998224725", "purpose": "onboarding", "legal_basis": "art7_V"}


def service_module() -> Any:
    load_router("consultas")  # binds the function's package as the runtime does
    return importlib.import_module("_routes_consultas.src.service")


class MemoryGateway:
    """The consulta's outside world in memory: claims, holds, plugin answers and committed units."""

    def __init__(self, result: PluginResult | None = None, *, route_error: Exception | None = None,
                 reserve_error: Exception | None = None, commit_error: Exception | None = None) -> None:
        self.tables = None  # no audit sealer: the after-commit callbacks are not run here
        self.result = result or PluginResult(status=Status.OK, data={"nome": "Fulano"}, billable=True, sources=[
            SourceAttempt(plugin="fonte-sandbox", status=Status.OK, billable=True, query="cpf")])
        self.route_error, self.reserve_error, self.commit_error = route_error, reserve_error, commit_error
        self.claims: dict[str, idempotency.Claim | idempotency.Stored] = {}
        self.released_claims: list[str] = []
        self.holds: list[Hold] = []
        self.released_holds: list[tuple[Hold, str]] = []
        self.executed: list[str] = []
        self.committed: list[list[dict[str, Any]]] = []
        self.lines: list[str] = []

    def claim(self, database_id: str, scope: str, key: str, fingerprint: str) -> Any:
        existing = self.claims.get(key)
        if existing is not None:
            return existing
        claimed = idempotency.Claim(database_id, idempotency.row_id(scope, key), scope, key, "2026-12-01T00:00:00")
        self.claims[key] = claimed
        return claimed

    def release_claim(self, claimed: idempotency.Claim | None) -> None:
        if claimed is not None:
            self.claims.pop(claimed.key, None)
            self.released_claims.append(claimed.key)

    def route(self, tenant_id: str, database_id: str, category: str) -> Route:
        if self.route_error:
            raise self.route_error
        return Route(f"consulta-{category}", None, {}, [])  # type: ignore[arg-type]

    def reserve(self, hold: Hold) -> None:
        if self.reserve_error:
            raise self.reserve_error
        self.holds.append(hold)

    def member_terms(self, command: Any) -> None:
        return None  # no market plugin: the tenant's price, no monthly limit

    def reserve_spend(self, member: Any) -> None:
        raise AssertionError("no member terms here")

    def give_back(self, member: Any) -> None:
        raise AssertionError("no member terms here")

    def release_hold(self, hold: Hold, reason: str) -> None:
        self.released_holds.append((hold, reason))

    def execute(self, route: Route, tenant_id: str, consulta_id: str, lookup: Any) -> PluginResult:
        self.executed.append(consulta_id)
        return self.result

    def store_receipts(self, command: Any, consulta_id: str, result: PluginResult) -> list[dict[str, Any]]:
        return []

    def transact(self, build: Callable[[UnitOfWork], T]) -> T:
        unit = UnitOfWork()
        result = build(unit)
        if self.commit_error:
            raise self.commit_error
        self.committed.append(unit.operations)
        return result

    def log(self, message: str) -> None:
        self.lines.append(message)

    def log_exception(self, message: str, error: BaseException) -> None:
        self.lines.append(f"{message}: {error}")


def command(key: str | None = None, **body: Any) -> Any:
    service = service_module()
    model = importlib.import_module("_routes_consultas.src.models").ConsultaBody.model_validate({**BODY, **body})
    lookup = validate_input(model.category, model.lookup_input())
    return service.ConsultaCommand(tenant_id="acme", database_id=DB, actor=Actor("u1", "analyst"),
                                   settings={"prices": {"cadastral": PRICE}}, body=model, lookup=lookup,
                                   idempotency_key=key, fingerprint="f" if key else "")


def tables_of(operations: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(op["tableId"], op["action"]) for op in operations]


def ledger_kinds(operations: list[dict[str, Any]]) -> list[str]:
    return [op["data"]["type"] for op in operations if op["tableId"] == "ledger"]


def test_an_answer_is_charged_once_with_its_row_audit_and_event_in_one_unit():
    gateway = MemoryGateway()
    outcome = service_module().run_consulta(command(), gateway)
    assert [h.amount for h in gateway.holds] == [PRICE] and gateway.executed == [outcome.consulta_id]
    [operations] = gateway.committed
    assert ledger_kinds(operations) == ["debit"]
    tables = {table for table, _ in tables_of(operations)}
    assert {"consultas", "audit", "outbox", "ledger", "wallets"} <= tables
    row = next(op["data"] for op in operations if op["tableId"] == "consultas")
    assert row["cost"] == PRICE and row["status"] == "succeeded" and row["audit_id"] == outcome.row["audit_id"]
    assert "52998224725" not in row["input_masked"] and not gateway.released_holds


def test_a_non_billable_failure_releases_the_reservation_in_the_same_unit():
    failed = PluginResult.error(Status.FAILED, "plugin_unavailable", "down")
    gateway = MemoryGateway(failed)
    outcome = service_module().run_consulta(command(), gateway)
    [operations] = gateway.committed
    assert ledger_kinds(operations) == ["release"] and outcome.row["cost"] == 0 and outcome.row["status"] == "failed"
    event = next(op["data"] for op in operations if op["tableId"] == "outbox")
    assert "consulta.failed" in str(event)


def test_a_keyed_request_stores_its_answer_with_the_effects_and_a_replay_runs_nothing():
    gateway = MemoryGateway()
    service = service_module()
    first = service.run_consulta(command("k-1"), gateway)
    [operations] = gateway.committed
    assert ("idempotency", "update") in tables_of(operations)
    gateway.claims["k-1"] = idempotency.Stored(201, {"consulta_id": first.consulta_id})
    again = service.run_consulta(command("k-1"), gateway)
    assert again.replayed and again.consulta_id == first.consulta_id
    assert len(gateway.holds) == 1 and len(gateway.executed) == 1 and len(gateway.committed) == 1


@pytest.mark.parametrize("where", ["route", "reserve"])
def test_a_refusal_before_the_money_moves_frees_the_key_and_runs_nothing(where):
    error = Conflict("not enabled", code="plugin_not_enabled") if where == "route" else PaymentRequired("short")
    gateway = MemoryGateway(**{f"{where}_error": error})
    with pytest.raises(type(error)):
        service_module().run_consulta(command("k-2"), gateway)
    assert gateway.released_claims == ["k-2"] and not gateway.executed and not gateway.committed
    assert not gateway.released_holds


def test_a_unit_that_cannot_commit_releases_the_hold_on_its_own_and_frees_the_key():
    gateway = MemoryGateway(commit_error=Conflict("busy", code="busy"))
    with pytest.raises(Conflict):
        service_module().run_consulta(command("k-3"), gateway)
    [(hold, reason)] = gateway.released_holds
    assert hold.amount == PRICE and reason == "the consulta did not finish"
    assert gateway.released_claims == ["k-3"] and not gateway.committed


def test_a_product_no_catalogue_sells_is_422_before_anything_is_held_and_frees_the_key():
    from bigtech.errors import Unprocessable

    gateway = MemoryGateway()  # no market terms: no catalogue, so no product is sold
    with pytest.raises(Unprocessable) as refused:
        service_module().run_consulta(command("k-4", product="pf-completo"), gateway)
    assert refused.value.code == "product_not_offered"
    assert gateway.released_claims == ["k-4"] and not gateway.holds and not gateway.executed
