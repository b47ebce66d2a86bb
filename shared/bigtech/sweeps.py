"""Which tenants a scheduled sweep must visit: the core ``work_pending`` markers.

Billing's schedule finishes work that a request left half-done: holds of consultas that died (the reaper,
``bigtech.credits.reaper``) and audit entries left unsealed (the audit sweep, ``bigtech.audit.seal_all``).
Visiting every tenant to find out costs calls in proportion to the number of tenants, however idle. So
whatever makes such work stages a marker in the same transaction — a row of ``work_pending`` with the
tenant's database and the kind of work. Its ``$createdAt`` is the database's clock, the same clock as the
work's own rows, so "due" needs no clock of ours: a hold's marker is due once the hold could be stale
(``STALE_AFTER``), an audit entry's at once. The sweep reads the due markers (one call per 100, at most
``MAX_MARKERS`` a run), visits only the databases they name, and deletes a database's markers only after it
finished that database without error. Markers it did not reach (its time budget ran out) stay for the next
run: nothing is lost, and a marker that outlives its work (the hold was settled, the entry sealed by its
writer) costs one visit that finds nothing. Each marker is a ``create`` of a fresh row, so concurrent
transactions never conflict over it (as the outbox's ``outbox_pending``, ``bigtech.bus.pending``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .schema_constants import CORE_DATABASE_ID, WORK_PENDING_TABLE
from .uow import UnitOfWork

CREDITS = "credits"  # a hold (and the claim made just before it), an async consulta's accept: billing's reaper
AUDIT = "audit"  # an audit entry staged unsealed: the audit sweep
MAX_MARKERS = 1000  # read per kind and run; the rest wait for the next run
PAGE = 100  # Appwrite's most rows per page and values per query
TENANT_PREFIX = "tenant_"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def marker(database_id: str, kind: str) -> dict[str, str]:
    return {"database_id": database_id, "kind": kind}


def new_marker_id() -> str:
    return "w" + secrets.token_hex(17)


def stage_marker(unit: UnitOfWork, database_id: str, kind: str) -> str:
    """Stage a marker in ``unit`` (the transaction that makes the work); returns its id."""
    marker_id = new_marker_id()
    unit.create(CORE_DATABASE_ID, WORK_PENDING_TABLE, marker_id, marker(database_id, kind))
    return marker_id


def mark(tables: TablesDB, database_id: str, kind: str) -> None:
    """Write a marker on its own, *before* work that no transaction of ours makes (one call)."""
    try:
        tables.create_row(CORE_DATABASE_ID, WORK_PENDING_TABLE, new_marker_id(), marker(database_id, kind))
    except AppwriteException as error:
        if error.code != 404:  # a core database older than the markers: nothing to mark in
            raise


def tenant_of(database_id: str) -> str:
    return database_id.removeprefix(TENANT_PREFIX)


def due(tables: TablesDB, kind: str, older_than: timedelta = timedelta(0), now: datetime | None = None,
        limit: int = MAX_MARKERS) -> dict[str, list[str]]:
    """Database id → ids of its markers of ``kind`` written before ``now - older_than``, oldest first."""
    found: dict[str, list[str]] = {}
    cursor: str | None = None
    read = 0
    cutoff = _iso((now or datetime.now(UTC)) - older_than)
    while read < limit:
        page = [Query.equal("kind", [kind]), Query.less_than("$createdAt", cutoff),
                Query.select(["$id", "database_id"]), Query.order_asc("$sequence"),
                Query.limit(min(PAGE, limit - read))]
        if cursor:
            page.append(Query.cursor_after(cursor))
        try:
            rows = tables.list_rows(CORE_DATABASE_ID, WORK_PENDING_TABLE, page, total=False).rows
        except AppwriteException as error:
            if error.code == 404:  # a core database older than the markers: nothing marked
                return found
            raise
        for row in rows:
            found.setdefault(str(row.data.get("database_id") or ""), []).append(row.id)
        read += len(rows)
        if len(rows) < PAGE:
            break
        cursor = rows[-1].id
    found.pop("", None)
    return found


def clear(tables: TablesDB, ids: Iterable[str]) -> int:
    """Delete the markers ``ids`` (one call per 100); how many were deleted."""
    deleted, ordered = 0, sorted(set(ids))
    for start in range(0, len(ordered), PAGE):
        chunk = ordered[start:start + PAGE]
        try:
            result = tables.delete_rows(CORE_DATABASE_ID, WORK_PENDING_TABLE, [Query.equal("$id", chunk)])
        except AppwriteException as error:
            if error.code == 404:
                return deleted
            raise
        deleted += int(getattr(result, "total", 0) or 0)
    return deleted


@dataclass
class Budget:
    """A sweep's time budget: ``left()`` seconds remain; ``spent`` once it ran out."""

    seconds: float
    started: float = field(default_factory=time.monotonic)

    def left(self) -> float:
        return self.seconds - (time.monotonic() - self.started)

    @property
    def spent(self) -> bool:
        return self.left() <= 0


__all__ = ["AUDIT", "CREDITS", "MAX_MARKERS", "Budget", "clear", "due", "mark", "marker", "stage_marker",
           "tenant_of"]
