"""``POST /events``: CORE billing consumes ``payment.*`` events and moves credits, exactly once.

``payment.confirmed`` credits the order's member once (ledger ``purchase`` keyed ``order:<id>:purchase``,
atomic increment, ``credits.purchased`` event) — **only when the paid amount and currency match the
order** (``payment_problem``): otherwise nothing is credited, the order goes to ``review`` with a
``review_reason``, and an audit entry ``orders.review`` and a ``payment.review`` event record it.
``payment.refunded``/``payment.chargeback`` write compensating entries (ledger ``refund``/``chargeback``)
with a decrement that has **no minimum**: if the credits were already spent the balance goes negative,
and the member's consultas get 402 until it is settled (a reservation decrements with ``min=0``).
A *partial* refund reverses only the refunded share of the credits (rounded up), tracked on the order
(``refunded_cents``, ``reversed_credits``), so later partial or full refunds reverse only the rest.

The order's status only moves forward (``transition``), whatever order events arrive in:

=========================  ===========  ===========  ============  ===============  ==============
status \\ event            confirmed    failed       refunded      partial refund   chargeback
=========================  ===========  ===========  ============  ===============  ==============
pending, failed, canceled  paid +C      failed¹      refunded +C-R review           chargeback +C-R
review                     paid +C      —            refunded      —                chargeback
paid, partially_refunded   —            —            refunded -R   partially_ -r    chargeback -R
refunded, chargeback       —            —            —             —                —
=========================  ===========  ===========  ============  ===============  ==============

(+C credit, -R reverse what is left, -r reverse the refunded share; ¹ from pending only.) A refund or
chargeback that arrives before the payment proves the payment happened, so it is applied with it
(purchase and reversal in one transaction, balance unchanged); the later ``confirmed`` then changes
nothing. A late ``failed`` never undoes a payment. Every ``+C`` first passes the amount check.

The flow is ``apply_payment(envelope, store)`` over a ``PaymentStore`` (``AppwritePaymentStore`` with the
SDK; in memory in ``tests/unit/test_payment_service.py``).

Each event is applied in one transaction with its dedupe marker ``processed_events(billing, event id)``,
the order update, the ledger rows, the wallet moves, an audit entry and the outbox events: a redelivery
(or a concurrent duplicate, whose commit conflicts and whose retry then sees the marker) does nothing
and answers ``{"duplicate": true}``. An event for an order that does not exist yet is answered 409 so
the relay retries it later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access, uow
from bigtech.audit import AuditTrail
from bigtech.audit.writer import stage_entry
from bigtech.bus.dedupe import processed_row_id
from bigtech.bus.envelope import EventEnvelope
from bigtech.bus.inbound import delivered_event
from bigtech.credits import ensure_wallet, grants, ledger, wallets
from bigtech.errors import Conflict
from bigtech.http import Request
from bigtech.outbox_writer import stage_event
from bigtech.payments.models import strict_cents
from bigtech.schema_constants import tenant_database_id

from .access import EVENTS_ACTION, KEY_ONLY_ACTIONS, authenticate_members

T = TypeVar("T")

CONSUMER = "billing"
PROCESSED_TABLE = "processed_events"
ORDERS_TABLE = "orders"
PAYMENT_EVENTS = ("payment.confirmed", "payment.failed", "payment.refunded", "payment.chargeback")
UNPAID = ("pending", "failed", "canceled")
CREDITED = ("paid", "partially_refunded")
REVIEW = "review"
ORDER_CURRENCY = "BRL"  # every package is priced in BRL cents


@dataclass(frozen=True)
class Plan:
    status: str | None  # the new status; None: nothing changes
    credit: bool = False
    reversal: str | None = None  # "refund" | "chargeback"
    partial: bool = False  # reverse only the refunded share
    review: str | None = None  # why the order goes to review (nothing is credited)

    @property
    def noop(self) -> bool:
        return self.status is None


def transition(status: str, kind: str, *, partial: bool = False) -> Plan:
    """The state machine above: what ``kind`` (confirmed|failed|refunded|chargeback) does to an order."""
    reversal = {"refunded": "refund", "chargeback": "chargeback"}.get(kind)
    partial = partial and kind == "refunded"
    if status in UNPAID or status == REVIEW:
        if kind == "confirmed":
            return Plan("paid", credit=True)
        if kind == "failed":
            return Plan("failed") if status == "pending" else Plan(None)
        if reversal and status == REVIEW:  # nothing was credited, so nothing is taken back
            return Plan(None) if partial else Plan(kind)
        if reversal and partial:  # a share refunded of a payment never confirmed: what was paid is unknown
            return Plan(REVIEW, review="partial_refund_before_payment")
        if reversal:
            return Plan(kind, credit=True, reversal=reversal)
    if status in CREDITED and reversal:
        if partial:
            return Plan("partially_refunded", reversal=reversal, partial=True)
        return Plan(kind, reversal=reversal)
    return Plan(None)


def payment_problem(order: dict[str, Any], data: dict[str, Any]) -> str | None:
    """Why a confirmation must not credit ``order`` (``None``: it may). Fail closed: unknown is a problem."""
    paid = strict_cents(data.get("amount_cents"))
    expected = int(order.get("amount_cents") or 0)
    if paid is None:
        return "amount_missing"
    currency = str(data.get("currency") or "").upper()
    if not currency:
        return "currency_missing"
    if currency != ORDER_CURRENCY:
        return "currency_mismatch"
    if paid < expected:
        return "underpaid"
    if paid > expected and data.get("accepts_overpayment") is not True:
        return "amount_mismatch"
    return None


def refunded_share(order: dict[str, Any], refunded_cents: int) -> int:
    """Credits that ``refunded_cents`` (the total refunded so far) takes back: the same share of the
    credits as of the price, rounded up (a refunded cent never leaves a credit behind), at most all."""
    credits, price = int(order.get("credits") or 0), int(order.get("amount_cents") or 0)
    if price <= 0 or refunded_cents >= price:
        return credits
    return min(credits, -(-credits * refunded_cents // price))


def with_money_checks(plan: Plan, status: str, order: dict[str, Any], data: dict[str, Any]) -> Plan:
    """Refine ``transition``'s plan with the amounts: wrong payments review, partial refunds take a share."""
    if plan.credit and plan.reversal is None:
        problem = payment_problem(order, data)
        if problem:
            return Plan(None) if status == REVIEW else Plan(REVIEW, review=problem)
    if plan.partial:
        refunded = strict_cents(data.get("refunded_cents"))
        if refunded is None:
            return Plan(REVIEW, review="refund_amount_missing")
        if refunded >= int(order.get("amount_cents") or 0):
            return replace(plan, status="refunded", partial=False)
        if refunded_share(order, refunded) <= int(order.get("reversed_credits") or 0):
            return Plan(None)  # an older (smaller) refund total arriving late
    return plan


class _AlreadyProcessed(Exception):
    pass


class PaymentStore(Protocol):
    """What applying a payment event needs from the outside world (one instance per execution);
    ``AppwritePaymentStore`` does it with the SDK, the unit tests in memory."""

    tables: Any  # what seals the audit entry after the commit

    def order(self, database_id: str, order_id: str) -> dict[str, Any] | None: ...

    def processed(self, database_id: str, marker_id: str) -> bool: ...

    def ensure_wallet(self, database_id: str, user_id: str) -> None: ...

    def transact(self, build: Callable[[uow.UnitOfWork], T]) -> T: ...


class AppwritePaymentStore:
    def __init__(self, tables: TablesDB) -> None:
        self.tables = tables

    def order(self, database_id: str, order_id: str) -> dict[str, Any] | None:
        try:
            return dict(self.tables.get_row(database_id, ORDERS_TABLE, order_id).data)
        except AppwriteException as error:
            if error.code in (400, 404):
                return None
            raise

    def processed(self, database_id: str, marker_id: str) -> bool:
        try:
            self.tables.get_row(database_id, PROCESSED_TABLE, marker_id)
            return True
        except AppwriteException as error:
            if error.code != 404:
                raise
        return False

    def ensure_wallet(self, database_id: str, user_id: str) -> None:
        ensure_wallet(self.tables, database_id, user_id)

    def transact(self, build: Callable[[uow.UnitOfWork], T]) -> T:
        return uow.run(self.tables, build)


def apply(tables: TablesDB, envelope: EventEnvelope) -> dict[str, Any]:
    """Apply one ``payment.*`` event with the SDK (``apply_payment`` over an ``AppwritePaymentStore``)."""
    return apply_payment(envelope, AppwritePaymentStore(tables))


def apply_payment(envelope: EventEnvelope, store: PaymentStore) -> dict[str, Any]:
    """Apply one ``payment.*`` event; returns what happened (``duplicate``, ``noop`` or the new status)."""
    kind = envelope.type.split(".", 1)[1]
    data = envelope.data
    order_id = str(data.get("order_id") or "")
    database_id = tenant_database_id(envelope.tenant_id)
    marker_id = processed_row_id(CONSUMER, envelope.id)
    if not order_id:
        return {"processed": False, "reason": "no_order"}
    order = store.order(database_id, order_id)
    if order is None:
        raise _not_yet()
    user_id = str(order.get("user_id"))
    store.ensure_wallet(database_id, user_id)  # the increment/decrement below needs the row

    def build(unit: uow.UnitOfWork) -> dict[str, Any]:
        if store.processed(database_id, marker_id):
            raise _AlreadyProcessed
        fresh = store.order(database_id, order_id)  # re-read on every attempt: the order may have moved
        if fresh is None:
            raise _not_yet()
        unit.create(database_id, PROCESSED_TABLE, marker_id, {"consumer": CONSUMER, "event_id": envelope.id[:64]})
        if fresh.get("gateway") and data.get("gateway") and fresh.get("gateway") != data.get("gateway"):
            return {"processed": True, "outcome": "ignored", "reason": "other_gateway", "order_id": order_id}
        status = str(fresh.get("status"))
        plan = with_money_checks(transition(status, kind, partial=data.get("partial") is True), status, fresh, data)
        if plan.noop:
            return {"processed": True, "outcome": "noop", "order_id": order_id, "status": status}
        return stage_plan(store.tables, unit, envelope, fresh, status, plan)

    try:
        return store.transact(build)
    except _AlreadyProcessed:
        return {"processed": True, "duplicate": True, "order_id": order_id}


def _not_yet() -> Conflict:
    return Conflict("The order of this payment is not known yet; retry later.", code="order_not_found_yet")


def stage_plan(tables: TablesDB, unit: uow.UnitOfWork, envelope: EventEnvelope, order: dict[str, Any], status: str,
               plan: Plan) -> dict[str, Any]:
    """Stage the order update, ledger rows, wallet moves, audit entry and events of one planned change."""
    data, kind = envelope.data, envelope.type.split(".", 1)[1]
    order_id, user_id = str(data.get("order_id")), str(order.get("user_id"))
    database_id = tenant_database_id(envelope.tenant_id)
    credits = int(order.get("credits") or 0)
    already = 0 if plan.credit else int(order.get("reversed_credits") or 0)
    refunded = strict_cents(data.get("refunded_cents"))
    target = refunded_share(order, refunded) if plan.partial and refunded is not None else credits
    reversed_now = max(0, target - already) if plan.reversal else 0
    actor = f"gateway:{data.get('gateway') or 'unknown'}"
    reason = f"{envelope.type} {data.get('gateway_event') or ''}".strip()
    paid = strict_cents(data.get("amount_cents"))

    update: dict[str, Any] = {"status": plan.status}
    if plan.credit:
        update["paid_at"] = datetime.now(UTC).isoformat(timespec="milliseconds")
    if kind == "confirmed" and paid is not None:
        update["paid_cents"] = paid
    if plan.review:
        update["review_reason"] = plan.review
    elif plan.status != REVIEW and order.get("review_reason"):
        update["review_reason"] = None  # a correct payment settles an earlier review
    if plan.reversal:
        update["reversed_credits"] = already + reversed_now
        update["refunded_cents"] = max(refunded or 0, int(order.get("refunded_cents") or 0))
    unit.update(database_id, ORDERS_TABLE, order_id, update)

    if plan.credit:
        grants.stage_credit(unit, database_id, user_id, credits, f"order:{order_id}:purchase", kind="purchase",
                            reference_type="order", reference_id=order_id, actor=actor, reason=reason)
    if reversed_now:
        # A full reversal keeps its historic key; each partial level has its own, so a redelivered or
        # repeated refund total can never reverse twice.
        key = f"order:{order_id}:reversal" + (f":{target}" if plan.partial else "")
        ledger.stage_entry(unit, database_id, user_id, plan.reversal or "refund", reversed_now, key,
                           reference_type="order", reference_id=order_id, actor=actor, reason=reason)
        unit.decrement(database_id, wallets.TABLE, user_id, "balance", reversed_now)  # no min: may go negative

    details = {"order_id": order_id, "user_id": user_id, "credits": credits, "from": status, "to": plan.status,
               "event_id": envelope.id, "gateway_event_id": data.get("gateway_event_id"), "credited": plan.credit,
               "reversal": plan.reversal, "reversed_credits": reversed_now,
               "expected_cents": order.get("amount_cents"), "paid_cents": paid, "currency": data.get("currency"),
               "refunded_cents": refunded, "review_reason": plan.review}
    action = "orders.review" if plan.review else f"orders.{kind}"
    entry = stage_entry(tables, unit, AuditTrail.tenant(database_id), action=action, actor=actor,
                        resource_type="order", resource_id=order_id, details=details)
    if plan.review:
        stage_event(unit, "payment.review", envelope.tenant_id,
                    {"order_id": order_id, "user_id": user_id, "reason": plan.review, "from": status,
                     "expected_cents": order.get("amount_cents"), "paid_cents": paid,
                     "currency": data.get("currency"), "gateway": data.get("gateway"),
                     "gateway_event": data.get("gateway_event"), "gateway_event_id": data.get("gateway_event_id"),
                     "audit_id": entry.id},
                    actor=actor, database_id=database_id)
    if plan.credit:
        stage_event(unit, "credits.purchased", envelope.tenant_id,
                    {"order_id": order_id, "user_id": user_id, "credits": credits,
                     "package_id": order.get("package_id"), "audit_id": entry.id},
                    actor=actor, database_id=database_id)
    return {"processed": True, "outcome": "review" if plan.review else "applied", "order_id": order_id,
            "from": status, "status": plan.status, "credited": credits if plan.credit else 0,
            "reversed": reversed_now, "review_reason": plan.review, "audit_id": entry.id}


def handle_event(request: Request) -> Any:
    """``POST /events`` (the relay, with a key: no user). Non-payment events are acknowledged and skipped."""
    envelope = delivered_event(request)
    if envelope.type not in PAYMENT_EVENTS:
        return {"processed": False, "reason": "not_subscribed"}
    outcome = apply(appwrite_access.tables(request), envelope)
    request.log.log(f"billing: {envelope.type} {envelope.id} tenant={envelope.tenant_id} → {outcome}")
    return outcome


__all__ = ["CONSUMER", "EVENTS_ACTION", "KEY_ONLY_ACTIONS", "PAYMENT_EVENTS", "AppwritePaymentStore", "PaymentStore",
           "Plan", "apply", "apply_payment", "authenticate_members", "handle_event", "payment_problem",
           "refunded_share", "transition", "with_money_checks"]
