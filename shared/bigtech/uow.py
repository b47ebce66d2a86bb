"""A unit of work: TablesDB operations staged locally, then committed as one Appwrite transaction.

A handler's change, its audit entry and its outbox event must land together or not at all, so they
are staged as transaction operations (``{"action", "databaseId", "tableId", "rowId", "data"}``) and
committed with three calls: ``create_transaction`` → ``create_operations`` → ``update_transaction
(commit=True)``.

Appwrite commits with optimistic concurrency: when a row staged for update changed since, or a staged
create collides with an existing row, the commit fails with 409 ``transaction_conflict``. The loser
rebuilds its work from fresh reads and tries again, with jittered exponential backoff, a bounded
number of times, then gives up with 409 ``busy``. ``build`` therefore must be safe to run again: it
reads what it needs and stages operations, and does nothing irreversible itself. (The audit entry
it stages is unsealed and has no head to race for; it is sealed into the chain by an after-commit
callback, see ``bigtech.audit.writer``.)
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .errors import BadRequest, Conflict
from .retry import retry

T = TypeVar("T")

MAX_OPERATIONS = 100  # Appwrite's per-transaction ceiling (400 transaction_limit_exceeded above it)
TRANSACTION_TTL = 60  # seconds; Appwrite's minimum, plenty for three calls
# 409 types that mean "someone else moved first": rebuild from fresh reads and retry.
RETRYABLE_TYPES = frozenset({
    "transaction_conflict", "row_update_conflict", "row_already_exists", "row_unique_constraint_violation",
})


@dataclass
class UnitOfWork:
    """The operations one attempt stages. Also carries callbacks to run after a successful commit."""

    operations: list[dict[str, Any]] = field(default_factory=list)
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def _stage(self, action: str, database_id: str, table_id: str, row_id: str, data: Any = None) -> None:
        if len(self.operations) >= MAX_OPERATIONS:
            raise BadRequest("Too many changes in one request.", code="too_many_changes")
        operation: dict[str, Any] = {"action": action, "databaseId": database_id, "tableId": table_id,
                                     "rowId": row_id}
        if data is not None:
            operation["data"] = data
        self.operations.append(operation)

    def create(self, database_id: str, table_id: str, row_id: str, data: dict[str, Any]) -> None:
        self._stage("create", database_id, table_id, row_id, data)

    def update(self, database_id: str, table_id: str, row_id: str, data: dict[str, Any]) -> None:
        self._stage("update", database_id, table_id, row_id, data)

    def upsert(self, database_id: str, table_id: str, row_id: str, data: dict[str, Any]) -> None:
        self._stage("upsert", database_id, table_id, row_id, data)

    def delete(self, database_id: str, table_id: str, row_id: str) -> None:
        self._stage("delete", database_id, table_id, row_id)

    def increment(self, database_id: str, table_id: str, row_id: str, column: str, value: int = 1,
                  max: int | None = None) -> None:
        data: dict[str, Any] = {"column": column, "value": value}
        if max is not None:
            data["max"] = max
        self._stage("increment", database_id, table_id, row_id, data)

    def decrement(self, database_id: str, table_id: str, row_id: str, column: str, value: int = 1,
                  min: int | None = None) -> None:
        data: dict[str, Any] = {"column": column, "value": value}
        if min is not None:
            data["min"] = min
        self._stage("decrement", database_id, table_id, row_id, data)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)


def is_retryable(error: BaseException) -> bool:
    return isinstance(error, AppwriteException) and error.code == 409 and error.type in RETRYABLE_TYPES


def commit(tables: TablesDB, operations: list[dict[str, Any]]) -> str:
    """Stage ``operations`` in a new transaction and commit it; returns the transaction id.

    On any failure the transaction is rolled back (best effort: a failed commit already marked it
    ``failed``, and an abandoned one expires after its TTL) and the error is raised unchanged.
    """
    transaction = tables.create_transaction(ttl=TRANSACTION_TTL)
    try:
        tables.create_operations(transaction.id, operations)
        tables.update_transaction(transaction.id, commit=True)
    except AppwriteException:
        # Already failed/rolled back, or expired: nothing left to undo.
        with contextlib.suppress(AppwriteException):
            tables.update_transaction(transaction.id, rollback=True)
        raise
    return transaction.id


def run(tables: TablesDB, build: Callable[[UnitOfWork], T], *, attempts: int = 20, base_delay: float = 0.02,
        max_delay: float = 0.5, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run ``build`` and commit what it staged, retrying the whole attempt on a concurrency conflict.

    Returns what ``build`` returned (e.g. the audit entry). A build that stages nothing commits nothing.
    After ``attempts`` conflicts in a row → 409 ``busy`` (the caller may simply retry later).
    """
    def attempt() -> tuple[UnitOfWork, T]:
        unit = UnitOfWork()
        result = build(unit)
        if unit.operations:
            commit(tables, unit.operations)
        return unit, result

    unit, result = retry(attempt, retry_on=is_retryable, attempts=attempts, base_delay=base_delay,
                         max_delay=max_delay, sleep=sleep,
                         exhausted=lambda: Conflict("Too many concurrent changes; please retry.", code="busy"))
    for callback in unit._after_commit:
        callback()
    return result
