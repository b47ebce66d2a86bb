"""``apply_payment`` without the stack: a confirmed payment credits once (ledger, wallet, audit, event in
one unit), a wrong amount goes to review, a redelivery does nothing, an unknown order is retried later."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from bigtech.bus.envelope import EventEnvelope
from bigtech.errors import Conflict
from bigtech.uow import UnitOfWork
from tests.support.actors import load_router

T = TypeVar("T")
DB = "tenant_acme"


def crediting() -> Any:
    load_router("billing")  # binds the function's package as the runtime does
    return importlib.import_module("_routes_billing.src.crediting")


class MemoryPayments:
    def __init__(self, orders: dict[str, dict[str, Any]]) -> None:
        self.tables = None  # no audit sealer in memory
        self.orders = orders
        self.markers: set[str] = set()
        self.wallets: set[str] = set()
        self.committed: list[list[dict[str, Any]]] = []

    def order(self, database_id, order_id):
        found = self.orders.get(order_id)
        return dict(found) if found is not None else None

    def processed(self, database_id, marker_id):
        return marker_id in self.markers

    def ensure_wallet(self, database_id, user_id):
        self.wallets.add(user_id)

    def transact(self, build: Callable[[UnitOfWork], T]) -> T:
        unit = UnitOfWork()
        result = build(unit)
        self.committed.append(unit.operations)
        for op in unit.operations:
            if op["tableId"] == "processed_events":
                self.markers.add(op["rowId"])
            if op["tableId"] == "orders":
                self.orders[op["rowId"]].update(op["data"])
        return result


def pending_order() -> dict[str, Any]:
    return {"user_id": "u1", "credits": 100, "amount_cents": 5000, "status": "pending", "gateway": "pagamento-sandbox",
            "package_id": "p100"}


def confirmed(amount_cents: int = 5000, event_id: str = "evt-1") -> EventEnvelope:
    return EventEnvelope(id=event_id, type="payment.confirmed", tenant_id="acme", data={
        "order_id": "o1", "gateway": "pagamento-sandbox", "amount_cents": amount_cents, "currency": "BRL",
        "gateway_event_id": "g-1"})


def test_a_confirmed_payment_credits_once_with_audit_and_event_in_one_unit():
    store = MemoryPayments({"o1": pending_order()})
    outcome = crediting().apply_payment(confirmed(), store)
    assert outcome["outcome"] == "applied" and outcome["credited"] == 100 and store.orders["o1"]["status"] == "paid"
    [operations] = store.committed
    kinds = [(op["tableId"], op["action"]) for op in operations]
    assert ("ledger", "create") in kinds and ("wallets", "increment") in kinds and ("audit", "create") in kinds
    assert any(op["tableId"] == "outbox" and "credits.purchased" in str(op["data"]) for op in operations)
    again = crediting().apply_payment(confirmed(), store)
    assert again == {"processed": True, "duplicate": True, "order_id": "o1"} and len(store.committed) == 1


def test_a_wrong_amount_goes_to_review_and_credits_nothing():
    store = MemoryPayments({"o1": pending_order()})
    outcome = crediting().apply_payment(confirmed(amount_cents=10), store)
    assert outcome["outcome"] == "review" and outcome["credited"] == 0 and store.orders["o1"]["status"] == "review"
    [operations] = store.committed
    assert not any(op["tableId"] == "wallets" for op in operations)


def test_an_unknown_order_is_answered_409_so_the_relay_retries():
    with pytest.raises(Conflict) as raised:
        crediting().apply_payment(confirmed(), MemoryPayments({}))
    assert raised.value.code == "order_not_found_yet"
