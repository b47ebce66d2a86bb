"""``POST /events``: CORE billing consumes ``payment.*`` events and moves credits, exactly once.

``payment.confirmed`` credits the order's member once (ledger ``purchase`` keyed ``order:<id>:purchase``,
atomic increment, ``credits.purchased`` event); ``payment.refunded``/``payment.chargeback`` write one
compensating entry (ledger ``refund``/``chargeback`` keyed ``order:<id>:reversal``) with a decrement
that has **no minimum**: if the credits were already spent the balance goes negative, and the
member's consultas get 402 until it is settled (a reservation decrements with ``min=0``).

The order's status only moves forward (``transition``), whatever order events arrive in:

=========================  ===========  ===========  ============  ==============
status \\ event            confirmed    failed       refunded      chargeback
=========================  ===========  ===========  ============  ==============
pending, failed, canceled  paid +C      failed       refunded +C-R chargeback +C-R
paid                       —            —            refunded -R   chargeback -R
refunded, chargeback       —            —            —             —
=========================  ===========  ===========  ============  ==============

(+C credit, -R reverse.) A refund or chargeback that arrives before the payment proves the payment
happened, so it is applied with it (purchase and reversal in one transaction, balance unchanged);
the later ``confirmed`` then changes nothing. A late ``failed`` never undoes a payment.

Each event is applied in one transaction with its dedupe marker ``processed_events(billing, event id)``,
the order update, the ledger rows, the wallet moves, an audit entry and the outbox events: a redelivery
(or a concurrent duplicate, whose commit conflicts and whose retry then sees the marker) does nothing
and answers ``{"duplicate": true}``. An event for an order that does not exist yet is answered 409 so
the relay retries it later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access, uow
from bigtech.audit import AuditTrail
from bigtech.audit.writer import stage_entry
from bigtech.bus.dedupe import processed_row_id
from bigtech.bus.envelope import EventEnvelope
from bigtech.bus.errors import InvalidEvent
from bigtech.credits import ensure_wallet, grants, ledger, wallets
from bigtech.errors import Conflict, Forbidden, Unprocessable
from bigtech.http import Request
from bigtech.identity import authenticate
from bigtech.outbox import stage_event
from bigtech.schema.tenant import tenant_database_id

from .reaping import REAP_ACTION

CONSUMER = "billing"
PROCESSED_TABLE = "processed_events"
ORDERS_TABLE = "orders"
PAYMENT_EVENTS = ("payment.confirmed", "payment.failed", "payment.refunded", "payment.chargeback")
UNPAID = ("pending", "failed", "canceled")


@dataclass(frozen=True)
class Plan:
    status: str | None  # the new status; None: nothing changes
    credit: bool = False
    reversal: str | None = None  # "refund" | "chargeback"

    @property
    def noop(self) -> bool:
        return self.status is None


def transition(status: str, kind: str) -> Plan:
    """The state machine above: what ``kind`` (confirmed|failed|refunded|chargeback) does to an order."""
    reversal = {"refunded": "refund", "chargeback": "chargeback"}.get(kind)
    if status in UNPAID:
        if kind == "confirmed":
            return Plan("paid", credit=True)
        if kind == "failed":
            return Plan("failed") if status == "pending" else Plan(None)
        if reversal:
            return Plan(kind, credit=True, reversal=reversal)
    if status == "paid" and reversal:
        return Plan(kind, reversal=reversal)
    return Plan(None)


class _AlreadyProcessed(Exception):
    pass


def apply(tables: TablesDB, envelope: EventEnvelope) -> dict[str, Any]:
    """Apply one ``payment.*`` event; returns what happened (``duplicate``, ``noop`` or the new status)."""
    kind = envelope.type.split(".", 1)[1]
    data = envelope.data
    order_id = str(data.get("order_id") or "")
    database_id = tenant_database_id(envelope.tenant_id)
    marker_id = processed_row_id(CONSUMER, envelope.id)
    if not order_id:
        return {"processed": False, "reason": "no_order"}
    try:
        order = tables.get_row(database_id, ORDERS_TABLE, order_id)
    except AppwriteException as error:
        if error.code in (400, 404):
            raise Conflict("The order of this payment is not known yet; retry later.",
                           code="order_not_found_yet") from None
        raise
    user_id = str(order.data.get("user_id"))
    ensure_wallet(tables, database_id, user_id)  # the increment/decrement below needs the row

    def build(unit: uow.UnitOfWork) -> dict[str, Any]:
        try:
            tables.get_row(database_id, PROCESSED_TABLE, marker_id)
            raise _AlreadyProcessed
        except AppwriteException as error:
            if error.code != 404:
                raise
        fresh = tables.get_row(database_id, ORDERS_TABLE, order_id).data
        unit.create(database_id, PROCESSED_TABLE, marker_id, {"consumer": CONSUMER, "event_id": envelope.id[:64]})
        if fresh.get("gateway") and data.get("gateway") and fresh.get("gateway") != data.get("gateway"):
            return {"processed": True, "outcome": "ignored", "reason": "other_gateway", "order_id": order_id}
        status = str(fresh.get("status"))
        plan = transition(status, kind)
        if plan.noop:
            return {"processed": True, "outcome": "noop", "order_id": order_id, "status": status}
        credits = int(fresh.get("credits") or 0)
        update: dict[str, Any] = {"status": plan.status}
        if plan.credit:
            update["paid_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
        unit.update(database_id, ORDERS_TABLE, order_id, update)
        actor = f"gateway:{data.get('gateway') or 'unknown'}"
        if plan.credit:
            grants.stage_credit(unit, database_id, user_id, credits, f"order:{order_id}:purchase", kind="purchase",
                                reference_type="order", reference_id=order_id, actor=actor,
                                reason=f"{envelope.type} {data.get('gateway_event') or ''}".strip())
        if plan.reversal:
            ledger.stage_entry(unit, database_id, user_id, plan.reversal, credits, f"order:{order_id}:reversal",
                               reference_type="order", reference_id=order_id, actor=actor,
                               reason=f"{envelope.type} {data.get('gateway_event') or ''}".strip())
            unit.decrement(database_id, wallets.TABLE, user_id, "balance", credits)  # no min: may go negative
        details = {"order_id": order_id, "user_id": user_id, "credits": credits, "from": status,
                   "to": plan.status, "event_id": envelope.id, "gateway_event_id": data.get("gateway_event_id"),
                   "credited": plan.credit, "reversal": plan.reversal}
        entry = stage_entry(tables, unit, AuditTrail.tenant(database_id), action=f"orders.{kind}", actor=actor,
                            resource_type="order", resource_id=order_id, details=details)
        if plan.credit:
            stage_event(unit, "credits.purchased", envelope.tenant_id,
                        {"order_id": order_id, "user_id": user_id, "credits": credits,
                         "package_id": fresh.get("package_id"), "audit_id": entry.id},
                        actor=actor, database_id=database_id)
        return {"processed": True, "outcome": "applied", "order_id": order_id, "from": status,
                "status": plan.status, "credited": credits if plan.credit else 0,
                "reversed": credits if plan.reversal else 0, "audit_id": entry.id}

    try:
        return uow.run(tables, build)
    except _AlreadyProcessed:
        return {"processed": True, "duplicate": True, "order_id": order_id}


def handle_event(request: Request) -> Any:
    """``POST /events`` (the relay, with a key: no user). Non-payment events are acknowledged and skipped."""
    if request.user_id:
        raise Forbidden("Events are delivered by the relay only.", code="core_only")
    try:
        envelope = EventEnvelope.from_json(request.body)
    except InvalidEvent:
        raise Unprocessable("The body is not an event envelope.", code="invalid_event") from None
    if envelope.type not in PAYMENT_EVENTS:
        return {"processed": False, "reason": "not_subscribed"}
    outcome = apply(appwrite_access.tables(request), envelope)
    request.log.log(f"billing: {envelope.type} {envelope.id} tenant={envelope.tenant_id} → {outcome}")
    return outcome


EVENTS_ACTION = "billing.events"
# Routes called with a key and no user (the relay, the schedule); each refuses any user itself.
KEY_ONLY_ACTIONS = frozenset({EVENTS_ACTION, REAP_ACTION})


def authenticate_members(request: Request, route: Any) -> None:
    """``serve`` hook: every route resolves the signed-in member, except the key-only ones (no user)."""
    if route.action not in KEY_ONLY_ACTIONS:
        authenticate(request, route)


__all__ = ["CONSUMER", "EVENTS_ACTION", "KEY_ONLY_ACTIONS", "PAYMENT_EVENTS", "Plan", "apply", "authenticate_members",
           "handle_event", "transition"]
