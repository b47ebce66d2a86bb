"""The consulta flow as a service: ``run_consulta(command, gateway) -> ConsultaOutcome``.

No HTTP and no SDK here: the handler (``create.py``) turns a request into a ``ConsultaCommand`` and the
outcome into a response; the ``Gateway`` is everything the flow does to the outside world (the
idempotency claim, the route, the reservation, the plugin execution, the unit of work). ``AppwriteGateway``
does it with the SDK; the unit tests use an in-memory one.

1. ``idempotency-key``: a replay returns the first answer (and charges nothing more); the gateway may
   take the key in the reservation's transaction (step 3) and tell a duplicate by its refusal;
2. price it (an API key's terms, else the market plugin's member price within the member's monthly
   limit, else the tenant's settings) and find the route (409 if the category is not enabled);
3. reserve the price (402 with balance and price);
4. run the consulta plugin (its fontes fall back in order);
5. one unit of work: the consulta row + ``debit`` (answer or billable error) or ``release`` (timeout,
   non-billable error) + audit entry + ``consulta.completed|failed`` + the stored idempotent answer.
   If it cannot be committed, the reservation is released on its own and the key freed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from appwrite.id import ID

from bigtech import idempotency
from bigtech.audit import AuditTrail
from bigtech.audited import Actor, Event
from bigtech.credits import Hold, stage_release, stage_settle
from bigtech.market import MemberTerms
from bigtech.plugin_loader.routing import Route
from bigtech.plugins import ConsultaInput, PluginResult
from bigtech.uow import UnitOfWork

from . import pricing, render
from .models import ConsultaBody

T = TypeVar("T")
TABLE = "consultas"


@dataclass(frozen=True)
class ConsultaCommand:
    """One validated request for a paid consulta, with who asks and where."""

    tenant_id: str
    database_id: str
    actor: Actor
    settings: dict[str, Any]  # the tenant's (prices)
    body: ConsultaBody
    lookup: ConsultaInput
    idempotency_key: str | None = None
    fingerprint: str = ""  # what makes two requests "the same" (keyed hash; see create.fingerprint)
    document_hash: str | None = None
    # A caller that is not a member (mercado-atacado's API key, docs/mercado.md) brings its own terms: the
    # price of its volume band, the wallet it spends from and the columns that name it on the row.
    terms: Any = None

    @property
    def user_id(self) -> str:
        return self.actor.user_id

    @property
    def scope(self) -> str:
        return f"consultas:{self.user_id}"


@dataclass(frozen=True)
class ConsultaOutcome:
    """What the consulta came to: a new consulta (``row``) or a replay of the first answer (``stored``)."""

    consulta_id: str | None
    row: dict[str, Any] | None = None
    stored: idempotency.Stored | None = None

    @property
    def replayed(self) -> bool:
        return self.stored is not None


class Gateway(Protocol):
    """The outside world of one consulta (one instance per execution: nothing outlives the request)."""

    tables: Any  # what seals the audit entry after the commit

    def claim(self, database_id: str, scope: str, key: str, fingerprint: str) -> idempotency.Claim | idempotency.Stored:
        ...

    def release_claim(self, claimed: idempotency.Claim | None) -> idempotency.Stored | None:
        """Give the key back. A gateway that takes the key in the reservation's transaction checks instead
        whether the key was the reason for a refusal: another request's answer (a replay), or its 409/422."""
        ...

    def route(self, tenant_id: str, database_id: str, category: str) -> Route: ...

    def reserve(self, hold: Hold) -> None: ...

    def member_terms(self, command: ConsultaCommand) -> MemberTerms | None:
        """A member's price and monthly limit from the market plugin (mercado-varejo), or ``None`` for the
        platform's price without a limit."""
        ...

    def reserve_spend(self, member: MemberTerms) -> None: ...

    def give_back(self, member: MemberTerms) -> None: ...

    def release_hold(self, hold: Hold, reason: str) -> None: ...

    def execute(self, route: Route, tenant_id: str, consulta_id: str, lookup: ConsultaInput) -> PluginResult: ...

    def store_receipts(self, command: ConsultaCommand, consulta_id: str, result: PluginResult) -> list[dict[str, Any]]:
        """The fontes' source receipts stored in the tenant's bucket (links; never raises)."""
        ...

    def transact(self, build: Callable[[UnitOfWork], T]) -> T: ...

    def log(self, message: str) -> None: ...

    def log_exception(self, message: str, error: BaseException) -> None: ...


def run_consulta(command: ConsultaCommand, gateway: Gateway) -> ConsultaOutcome:
    """Run one paid consulta, charged at most once (see the module doc for the steps)."""
    body, database_id = command.body, command.database_id
    claimed: idempotency.Claim | None = None
    if command.idempotency_key:
        got = gateway.claim(database_id, command.scope, command.idempotency_key, command.fingerprint)
        if isinstance(got, idempotency.Stored):
            return _replay(got)
        claimed = got
    consulta_id = claimed.resource_id("c") if claimed else ID.unique()
    terms = command.terms
    member, price = pricing.quote(command, gateway, claimed)  # the product's or category's price (pricing.py)
    wallet_id = terms.wallet_id if terms else command.user_id
    hold = Hold(database_id, wallet_id, price, "consulta", consulta_id, actor=command.user_id)
    try:
        route = gateway.route(command.tenant_id, database_id, body.category)
        if member:
            gateway.reserve_spend(member)  # 402 monthly_limit_reached
        gateway.reserve(hold)
    except BaseException:
        if member:
            gateway.give_back(member)
        stored = gateway.release_claim(claimed)
        if stored is not None:  # the key was a finished request's: its answer, nothing charged
            return _replay(stored)
        raise

    try:  # from here on the credits are held: any failure gives them back and frees the key
        started = datetime.now(UTC)
        result = gateway.execute(route, command.tenant_id, consulta_id, command.lookup)
        row = _consulta_row(command, route, result, price)
        receipts = gateway.store_receipts(command, consulta_id, result)
        if receipts:  # committed with the row: the links exist exactly when the consulta does
            row["source_receipts"] = json.dumps(receipts, separators=(",", ":"))
        gateway.log(f"consulta {consulta_id} {body.category} {command.lookup.masked()} → {row['status']} "
                    f"({'charged' if row['cost'] else 'released'} {price}; "
                    f"fontes {[s['plugin'] for s in render.public_sources(result)]})")
        audit_id, _ = gateway.transact(_settlement(command, gateway, claimed, consulta_id, hold, route, result, row,
                                                   started))
    except BaseException as error:
        if member:
            gateway.give_back(member)
        gateway.log_exception(f"consulta {consulta_id}: failed after reserving; releasing the reservation", error)
        try:
            gateway.release_hold(hold, "the consulta did not finish")
        except Exception as undo_error:  # the reaper releases what stays held
            gateway.log_exception(f"consulta {consulta_id}: release failed too (hold stays held)", undo_error)
        gateway.release_claim(claimed)
        raise
    if member and not row["cost"]:  # uncharged: the month's spend gets the price back (best effort, logged)
        try:
            gateway.give_back(member)
        except Exception as error:
            gateway.log_exception(f"consulta {consulta_id}: monthly spend not given back", error)
    return ConsultaOutcome(consulta_id, {**row, "audit_id": audit_id})


def _replay(stored: idempotency.Stored) -> ConsultaOutcome:
    body = stored.body if isinstance(stored.body, dict) else {}
    return ConsultaOutcome(body.get("consulta_id"), stored=stored)


def _consulta_row(command: ConsultaCommand, route: Route, result: PluginResult, price: int) -> dict[str, Any]:
    body = command.body
    status = render.consulta_status(result)
    charged = render.charges(result)
    error = render.error_of(result)
    return {
        "user_id": command.user_id, "category": body.category, "status": status,
        "input_masked": json.dumps(command.lookup.masked()), "document_hash": command.document_hash,
        "purpose": body.purpose, "legal_basis": body.legal_basis, "cost": price if charged else 0,
        "plugin_id": route.plugin_id,
        "result": json.dumps(result.data, ensure_ascii=False) if result.data is not None else None,
        "sources": render.sources_json(render.public_sources(result)),
        "error": json.dumps(error) if error else None,
        "idempotency_key": command.idempotency_key,
        "completed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        **(command.terms.row_fields() if command.terms else {}),
    }


def _settlement(command: ConsultaCommand, gateway: Gateway, claimed: idempotency.Claim | None, consulta_id: str,
                hold: Hold, route: Route, result: PluginResult, row: dict[str, Any],
                started: datetime) -> Callable[[UnitOfWork], tuple[str, None]]:
    """The unit of work's build: settle or release + the row + audit + event + stored answer."""
    status, charged = row["status"], bool(row["cost"])

    def stage(unit: UnitOfWork) -> None:
        if charged:
            stage_settle(unit, hold)
        else:
            stage_release(unit, hold, reason=f"consulta {status}: {(render.error_of(result) or {}).get('code')}")

    def finish(unit: UnitOfWork, audit_id: str, _: None) -> None:
        unit.create(command.database_id, TABLE, consulta_id, {**row, "audit_id": audit_id})

    def answer(audit_id: str, _: None) -> tuple[int, Any]:
        return 201, {"consulta_id": consulta_id}  # a replay renders the stored row

    event = Event("consulta.completed" if status != "failed" else "consulta.failed", command.tenant_id, {
        "consulta_id": consulta_id, "category": command.body.category, "status": status, "cost": row["cost"],
        "user_id": command.user_id, "plugin_id": route.plugin_id,
        "sources": [s["plugin"] for s in render.public_sources(result)],
    })
    return idempotency.idempotent_build(
        gateway.tables, AuditTrail.tenant(command.database_id), command.actor, claimed, action="consultas.create",
        resource=("consulta", consulta_id), details=audit_details(command, row, result, hold.amount, started),
        stage=stage, events=[event], answer=answer, finish=finish,
        deferred_seal=True)  # sealed by the next sealer or the sweep: 7 calls fewer (docs/audit.md)


def audit_details(command: ConsultaCommand, row: dict[str, Any], result: PluginResult, price: int,
                  started: datetime) -> dict[str, Any]:
    """LGPD record of processing (art. 37): who, what (hashed/masked), why, from where, at what cost."""
    body = command.body
    return {
        "category": body.category, "status": row["status"], "price": price, "cost": row["cost"],
        "purpose": body.purpose, "legal_basis": body.legal_basis, "input": command.lookup.masked(),
        "subject_doc_hash": row["document_hash"], "plugin_id": row["plugin_id"],
        "sources": [f"{s.plugin}:{s.status.value}" for s in result.sources],
        "billable": result.billable, "provider_cost": str(result.provider_cost),
        "requested_at": started.isoformat(timespec="milliseconds"),
    }


__all__ = ["ConsultaCommand", "ConsultaOutcome", "Gateway", "audit_details", "run_consulta"]
