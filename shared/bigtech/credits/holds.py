"""Reserve a price before paid work, then settle it (debit) or give it back (release).

``reserve`` is one small transaction: the atomic decrement of ``balance`` with ``min=0`` (Appwrite
refuses to go below zero: 400 ``column_limit_exceeded``), the increment of ``held`` and the ``hold``
ledger row. Because the decrement is bounded by Appwrite itself, N concurrent reservations against a
balance that pays for k of them succeed exactly k times, with no read-then-write anywhere.

``stage_settle``/``stage_release`` stage the other half into the caller's unit of work, so the
consulta row, its ledger entry, its audit entry and its outbox event commit together. ``release_now``
is the compensation used when that final transaction cannot be made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .. import sweeps, uow
from ..errors import Conflict, PaymentRequired
from ..uow import UnitOfWork
from . import ledger, wallets


@dataclass(frozen=True)
class Hold:
    """Credits reserved for one piece of work (``reference``), identified by ``key`` (ledger keys derive from it)."""

    database_id: str
    user_id: str
    amount: int
    reference_type: str
    reference_id: str
    actor: str | None = None

    @property
    def key(self) -> str:
        return f"{self.reference_type}:{self.reference_id}"

    def ledger_key(self, kind: str) -> str:
        return f"{self.key}:{kind}"


def _insufficient(tables: TablesDB, hold: Hold) -> PaymentRequired | None:
    wallet = wallets.read_wallet(tables, hold.database_id, hold.user_id)
    if wallet.balance >= hold.amount:
        return None
    return PaymentRequired(
        f"Not enough credits: the balance is {wallet.balance} and this costs {hold.amount}.",
        details={"balance": wallet.balance, "price": hold.amount, "held": wallet.held},
    )


def reserve(tables: TablesDB, hold: Hold, first: Callable[[UnitOfWork], None] | None = None) -> Hold:
    """Move ``hold.amount`` from the balance to ``held`` (ledger ``hold``); 402 when the balance is short.

    ``first`` stages what must be made with the reservation or not at all (a consulta's idempotency
    claim), ahead of it in the same transaction."""
    if hold.amount <= 0:
        return hold
    unit = UnitOfWork()
    if first is not None:
        first(unit)
    db = hold.database_id
    unit.decrement(db, wallets.TABLE, hold.user_id, "balance", hold.amount, min=0)
    unit.increment(db, wallets.TABLE, hold.user_id, "held", hold.amount)
    ledger.stage_entry(unit, db, hold.user_id, "hold", hold.amount, hold.ledger_key("hold"),
                       reference_type=hold.reference_type, reference_id=hold.reference_id, actor=hold.actor)
    sweeps.stage_marker(unit, db, sweeps.CREDITS)  # billing's reaper visits this tenant once the hold could be stale
    try:
        uow.commit(tables, unit.operations)
    except AppwriteException as error:
        # Bound violated (400 column_limit_exceeded) or no wallet yet (404): both mean "not enough".
        # Any other 4xx is only called that if the balance really is short.
        if error.code in (400, 404):
            short = _insufficient(tables, hold)
            if short is not None:
                raise short from None
        if uow.is_retryable(error):
            raise Conflict("This reservation was already made.", code="hold_exists") from None
        raise
    return hold


def stage_settle(unit: UnitOfWork, hold: Hold) -> None:
    """The reserved credits are spent: ledger ``debit``, ``held`` down (the balance already moved)."""
    if hold.amount <= 0:
        return
    db = hold.database_id
    ledger.stage_entry(unit, db, hold.user_id, "debit", hold.amount, hold.ledger_key("debit"),
                       reference_type=hold.reference_type, reference_id=hold.reference_id, actor=hold.actor)
    unit.decrement(db, wallets.TABLE, hold.user_id, "held", hold.amount, min=0)


def stage_release(unit: UnitOfWork, hold: Hold, reason: str | None = None) -> None:
    """The reserved credits go back: ledger ``release``, balance up, ``held`` down."""
    if hold.amount <= 0:
        return
    db = hold.database_id
    ledger.stage_entry(unit, db, hold.user_id, "release", hold.amount, hold.ledger_key("release"),
                       reference_type=hold.reference_type, reference_id=hold.reference_id, actor=hold.actor,
                       reason=reason)
    unit.increment(db, wallets.TABLE, hold.user_id, "balance", hold.amount)
    unit.decrement(db, wallets.TABLE, hold.user_id, "held", hold.amount, min=0)


def settled(tables: TablesDB, database_id: str, holds: Sequence[Hold]) -> set[str]:
    """The keys of the ``holds`` (at most 50: two keys each in one query) that have a ``debit`` or a ``release``."""
    if not holds:
        return set()
    by_key = {h.ledger_key(kind): h.key for h in holds for kind in ("debit", "release")}
    rows = tables.list_rows(database_id, ledger.TABLE, [
        Query.equal("idempotency_key", list(by_key)), Query.select(["idempotency_key"]), Query.limit(100),
    ], total=False).rows
    return {by_key[row.data["idempotency_key"]] for row in rows if row.data.get("idempotency_key") in by_key}


def release_now(tables: TablesDB, hold: Hold, reason: str | None = None) -> None:
    """Release on its own transaction (when the work's own transaction could not be committed)."""
    unit = UnitOfWork()
    stage_release(unit, hold, reason)
    if unit.operations:
        uow.commit(tables, unit.operations)


__all__ = ["Hold", "release_now", "reserve", "settled", "stage_release", "stage_settle"]
