"""``place_order`` without the stack: the order is committed before the gateway is asked, a refusal marks
it failed (502, replayable), a replay creates nothing, and a refusal before the order frees the key."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from bigtech import idempotency
from bigtech.audited import Actor
from bigtech.errors import Conflict, detail_values
from bigtech.plugin_loader.state import TenantPlugin
from bigtech.plugins import PluginResult, Status
from bigtech.uow import UnitOfWork
from tests.support.actors import load_router

T = TypeVar("T")
DB = "tenant_acme"


def modules() -> tuple[Any, Any]:
    load_router("billing")  # binds the function's package as the runtime does
    return (importlib.import_module("_routes_billing.src.ordering"),
            importlib.import_module("_routes_billing.src.orders"))


class MemoryOrders:
    def __init__(self, result: PluginResult, *, plugin_error: Exception | None = None) -> None:
        ordering, _ = modules()
        self.ordering = ordering
        self.result, self.plugin_error = result, plugin_error
        self.claims: dict[str, Any] = {}
        self.released: list[str] = []
        self.rows: dict[str, dict[str, Any]] = {}
        self.charges: list[Any] = []
        self.committed: list[list[dict[str, Any]]] = []
        self.events: list[str] = []

    def claim(self, database_id, scope, key, fingerprint):
        if key in self.claims:
            return self.claims[key]
        self.claims[key] = idempotency.Claim(database_id, idempotency.row_id(scope, key), scope, key, "t0")
        return self.claims[key]

    def release_claim(self, claimed):
        self.claims.pop(claimed.key, None)
        self.released.append(claimed.key)

    def package(self, database_id, package_id):
        from _routes_billing.src.packages import Package

        return Package(package_id, "Pacote 100", 100, 5000)

    def payment_plugin(self, database_id):
        if self.plugin_error:
            raise self.plugin_error
        return TenantPlugin("pagamento-sandbox", enabled=True, exists=True)

    def commit_created(self, command, order_id, data, plugin_id, package):
        self.events.append("order.created")
        self.rows[order_id] = dict(data)
        return "a-created"

    def payer(self, command):
        return self.ordering.Payer("Fulana", "f@example.com", command.payer_document, None)

    def create_charge(self, plugin_id, request):
        assert request.request_id in self.rows, "the order must exist before the gateway is asked"
        self.charges.append(request)
        return self.result

    def order_row(self, database_id, order_id):
        return dict(self.rows[order_id]), "2026-12-01T00:00:00.000+00:00"

    def transact(self, build: Callable[[UnitOfWork], T]) -> T:
        unit = UnitOfWork()
        result = build(unit)
        self.committed.append(unit.operations)
        for op in unit.operations:
            if op["tableId"] == "orders":
                self.rows[op["rowId"]].update(op["data"])
        return result

    def log(self, message):
        pass


def command(key="k-1"):
    ordering, _ = modules()
    return ordering.OrderCommand(tenant_id="acme", database_id=DB, actor=Actor("u1", "owner"), key=key,
                                 request_hash="h", package_id="p100", method="pix")


PIX = PluginResult(status=Status.OK, data={"gateway": "sandbox", "method": "pix", "gateway_order_id": "g1",
                                           "gateway_charge_id": "c1", "pix_payload": "000201..."})


def test_the_order_is_created_pending_then_given_its_charge_with_the_stored_answer():
    ordering, orders = modules()
    gateway = MemoryOrders(PIX)
    outcome = ordering.place_order(command(), gateway, orders.order_view)
    assert outcome.status == 201 and outcome.body["audit_id"] == "a-created"
    [order_id] = gateway.rows
    assert gateway.rows[order_id]["status"] == "pending" and gateway.rows[order_id]["gateway_charge_id"] == "c1"
    [operations] = gateway.committed
    assert {op["tableId"] for op in operations} == {"orders", "idempotency"}
    assert outcome.body["payment"]["pix_payload"] == "000201..."


def test_a_refused_charge_marks_the_order_failed_and_answers_502():
    ordering, orders = modules()
    refused = PluginResult.error(Status.FAILED, "card_declined", "declined")
    gateway = MemoryOrders(refused)
    outcome = ordering.place_order(command(), gateway, orders.order_view)
    [order] = gateway.rows.values()
    assert outcome.status == 502 and order["status"] == "failed"
    assert detail_values(outcome.body)["gateway_error"]["code"] == "card_declined"


def test_a_replay_returns_the_stored_answer_and_asks_no_gateway():
    ordering, orders = modules()
    gateway = MemoryOrders(PIX)
    gateway.claims["k-1"] = idempotency.Stored(201, {"order": {"id": "o1"}})
    outcome = ordering.place_order(command(), gateway, orders.order_view)
    assert outcome.replayed and outcome.body == {"order": {"id": "o1"}} and not gateway.charges and not gateway.rows


def test_no_payment_plugin_frees_the_key_and_creates_nothing():
    ordering, orders = modules()
    gateway = MemoryOrders(PIX, plugin_error=Conflict("none", code="no_payment_plugin"))
    with pytest.raises(Conflict):
        ordering.place_order(command(), gateway, orders.order_view)
    assert gateway.released == ["k-1"] and not gateway.rows and not gateway.charges
