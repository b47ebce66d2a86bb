"""The ledger: one immutable row per balance change, each with its own idempotency key.

Amounts are positive; the type says which way the balance moved (``EFFECT``)::

    grant, purchase, release   +amount   (credits given, bought, or a reservation given back)
    hold                       -amount   (a consulta's price reserved before it runs)
    debit                       0        (a hold settled: the reserved credits are now spent)
    refund, chargeback         -amount   (a purchase paid back / disputed: its credits taken back)

So for every wallet ``balance == Σ effect`` and, once no consulta is running, ``Σ hold ==
Σ debit + Σ release`` (``held == Σ hold - Σ debit - Σ release`` at any time). The row id is derived
from the idempotency key, and the key column is unique, so a retried change can never be written twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from ..schema_constants import LEDGER_TYPES
from ..uow import UnitOfWork

TABLE = "ledger"
EFFECT: dict[str, int] = {
    "grant": 1, "purchase": 1, "release": 1, "hold": -1, "debit": 0, "refund": -1, "chargeback": -1,
}
assert set(EFFECT) == set(LEDGER_TYPES)


def entry_id(idempotency_key: str) -> str:
    return "l" + hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:35]


def entry_row(wallet_id: str, kind: str, amount: int, idempotency_key: str, *, reference_type: str | None = None,
              reference_id: str | None = None, actor: str | None = None, reason: str | None = None) -> dict[str, Any]:
    if kind not in EFFECT:
        raise ValueError(f"unknown ledger entry type {kind!r}")
    if amount <= 0:
        raise ValueError("ledger amounts are positive; the type gives the direction")
    return {
        "wallet_id": wallet_id, "type": kind, "amount": int(amount), "idempotency_key": idempotency_key[:160],
        "reference_type": reference_type, "reference_id": reference_id, "actor": actor,
        "reason": (reason or None) and reason[:512],
    }


def stage_entry(unit: UnitOfWork, database_id: str, wallet_id: str, kind: str, amount: int, idempotency_key: str,
                **extra: Any) -> str:
    """Stage one ledger row; returns its id."""
    row_id = entry_id(idempotency_key)
    unit.create(database_id, TABLE, row_id, entry_row(wallet_id, kind, amount, idempotency_key, **extra))
    return row_id


def effect(kind: str, amount: int) -> int:
    return EFFECT.get(kind, 0) * int(amount)


def balance_from(entries: Iterable[Mapping[str, Any]]) -> int:
    """What the balance must be after ``entries`` (for reconciliation and tests)."""
    return sum(effect(str(e.get("type")), int(e.get("amount") or 0)) for e in entries)


def to_public(row: Any) -> dict[str, Any]:
    data = row.data if hasattr(row, "data") else dict(row)
    kind = str(data.get("type"))
    amount = int(data.get("amount") or 0)
    return {
        "id": getattr(row, "id", data.get("$id")),
        "wallet_id": data.get("wallet_id"),
        "type": kind,
        "amount_credits": amount,
        "balance_effect": effect(kind, amount),
        "idempotency_key": data.get("idempotency_key"),
        "reference_type": data.get("reference_type"),
        "reference_id": data.get("reference_id"),
        "actor": data.get("actor"),
        "reason": data.get("reason"),
        "created_at": getattr(row, "createdat", None) or data.get("$createdAt"),
    }


__all__ = ["EFFECT", "TABLE", "balance_from", "effect", "entry_id", "entry_row", "stage_entry", "to_public"]
