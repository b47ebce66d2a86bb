"""Credits coming in (``grant`` by an admin, ``purchase`` from a paid order): balance up, one ledger row.

Stage it into the change's unit of work (with its audit entry and ``credits.*`` event). The wallet
must exist first (``wallets.ensure_wallet``): an increment of a missing row fails. The ledger row's id
comes from the idempotency key, so crediting the same order or grant twice fails the second commit.
"""

from __future__ import annotations

from ..uow import UnitOfWork
from . import ledger, wallets

CREDIT_TYPES = ("grant", "purchase")


def stage_credit(unit: UnitOfWork, database_id: str, user_id: str, amount: int, idempotency_key: str, *,
                 kind: str = "grant", reference_type: str | None = None, reference_id: str | None = None,
                 actor: str | None = None, reason: str | None = None) -> str:
    """Stage ``amount`` credits into ``user_id``'s wallet; returns the ledger row id."""
    if kind not in CREDIT_TYPES:
        raise ValueError(f"{kind!r} does not credit a wallet")
    entry = ledger.stage_entry(unit, database_id, user_id, kind, amount, idempotency_key,
                               reference_type=reference_type, reference_id=reference_id, actor=actor, reason=reason)
    unit.increment(database_id, wallets.TABLE, user_id, "balance", amount)
    return entry


__all__ = ["CREDIT_TYPES", "stage_credit"]
