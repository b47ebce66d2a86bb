"""Consumer dedupe in the tenant's `processed_events` table: a redelivered event does nothing.

The marker row's id is `processed_row_id(consumer, event id)` (and `(consumer, event_id)` is a unique index too), so
creating it a second time fails with 409 — the "already seen" answer. A subscriber should commit the marker in the
same TablesDB transaction as its own writes (`apply_once`, or `stage_processed` inside its own `UnitOfWork`): then
the effect and the marker land together or not at all, and a retry after a failure applies the event exactly once.
`TablesProcessedEvents` is the `ProcessedEvents` fallback for handlers whose effect is not a TablesDB write.

A subscriber's `/events` route answers 2xx when the event is applied *or* was a duplicate (body
`{"duplicate": true}` for the latter, which the relay counts), and anything else to have the bus retry.
"""

from __future__ import annotations

from collections.abc import Callable

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from ..appwrite_access import is_unique_violation
from ..retry import retry
from ..schema.tenant import tenant_database_id
from ..uow import UnitOfWork, commit, is_retryable
from .dedupe import processed_row_id
from .envelope import EventEnvelope

PROCESSED_TABLE = "processed_events"


def marker(consumer: str, event_id: str) -> dict[str, str]:
    return {"consumer": consumer[:64], "event_id": event_id}


def stage_processed(unit: UnitOfWork, consumer: str, envelope: EventEnvelope, *, database_id: str | None = None
                    ) -> None:
    """Stage the dedupe marker in `unit`; the commit then fails with 409 if `consumer` already applied it."""
    unit.create(database_id or tenant_database_id(envelope.tenant_id), PROCESSED_TABLE,
                processed_row_id(consumer, envelope.id), marker(consumer, envelope.id))


def already_processed(tables: TablesDB, consumer: str, envelope: EventEnvelope, *,
                      database_id: str | None = None) -> bool:
    try:
        tables.get_row(database_id or tenant_database_id(envelope.tenant_id), PROCESSED_TABLE,
                       processed_row_id(consumer, envelope.id))
    except AppwriteException as error:
        if error.code == 404:
            return False
        raise
    return True


def apply_once(tables: TablesDB, consumer: str, envelope: EventEnvelope, build: Callable[[UnitOfWork], None], *,
               database_id: str | None = None, attempts: int = 5) -> bool:
    """Stage `build`'s writes plus the marker and commit them as one transaction.

    True when applied now, False when `consumer` had already applied this event (nothing is written). `build` may
    run more than once (a concurrency conflict on one of its rows is retried from fresh reads), so it must only
    read and stage. Any other failure propagates: the relay retries the delivery later."""
    def attempt() -> UnitOfWork | None:
        unit = UnitOfWork()
        build(unit)
        stage_processed(unit, consumer, envelope, database_id=database_id)
        try:
            commit(tables, unit.operations)
        except AppwriteException as error:
            # The marker exists (a redelivery), or a conflict on one of build's rows: tell them apart.
            if is_retryable(error) and already_processed(tables, consumer, envelope, database_id=database_id):
                return None
            raise
        return unit

    unit = retry(attempt, retry_on=is_retryable, attempts=attempts)
    if unit is None:
        return False
    for callback in unit._after_commit:
        callback()
    return True


class TablesProcessedEvents:
    """`ProcessedEvents` for one tenant database (use with `bigtech.bus.idempotent`)."""

    def __init__(self, tables: TablesDB, database_id: str) -> None:
        self.tables = tables
        self.database_id = database_id

    def mark_processed(self, consumer: str, event_id: str) -> bool:
        try:
            self.tables.create_row(self.database_id, PROCESSED_TABLE, processed_row_id(consumer, event_id),
                                   marker(consumer, event_id))
        except AppwriteException as error:
            if is_unique_violation(error):
                return False
            raise
        return True

    def forget(self, consumer: str, event_id: str) -> None:
        try:
            self.tables.delete_row(self.database_id, PROCESSED_TABLE, processed_row_id(consumer, event_id))
        except AppwriteException as error:
            if error.code != 404:
                raise
