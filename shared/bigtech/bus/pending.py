"""The core ``outbox_pending`` markers: which tenants have outbox rows waiting, without visiting every tenant.

Every outbox row is staged with a marker (row id = event id, ``tenant_id``) in the same transaction
(``bigtech.outbox_writer.stage_event``). The relay's schedule reads the markers (one call per 100, at most
``MAX_MARKERS`` a run) and visits only the tenants they name; after the run it deletes the markers it read
whose rows are no longer pending (settled by this run, or earlier by an event run: event runs never touch
markers, so their cost stays one claim and one mark per event). A marker whose row is still pending (broker
down, subscriber failing, an event run still at it) stays, so the next schedule comes back: a marker may
outlive its row (then one visit finds nothing and clears it), but a pending row never lacks one — the row
and its marker commit together, and a marker is only deleted once its row is no longer pending (or
reopened by ``mark``, which writes it again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..schema.core import CORE_DATABASE_ID, OUTBOX_PENDING_TABLE
from .appwrite_rows import QUERY_VALUES_MAX, chunks, is_missing, list_raw, unavailable

MAX_MARKERS = 1000  # a run reads at most this many; the rest wait for the next schedule


class PendingMarkers:
    def __init__(self, tables: TablesDB) -> None:
        self.tables = tables
        self.seen: dict[str, list[str]] = {}  # tenant id -> marker (event) ids read by this run

    def load(self, limit: int = MAX_MARKERS) -> dict[str, list[str]]:
        """Tenant id → its marker ids, oldest markers first (cursor-paginated, ``limit`` at most)."""
        found: dict[str, list[str]] = {}
        cursor: str | None = None
        read = 0
        while read < limit:
            page = [Query.select(["$id", "tenant_id"]), Query.order_asc("$sequence"),
                    Query.limit(min(QUERY_VALUES_MAX, limit - read))]
            if cursor:
                page.append(Query.cursor_after(cursor))
            try:
                rows = list_raw(self.tables, CORE_DATABASE_ID, OUTBOX_PENDING_TABLE, page)
            except AppwriteException as error:
                if is_missing(error):
                    break  # a core database older than the markers: nothing marked
                raise unavailable("reading the pending markers", error) from error
            for row in rows:
                found.setdefault(str(row.get("tenant_id") or ""), []).append(row["$id"])
            read += len(rows)
            if len(rows) < QUERY_VALUES_MAX:
                break
            cursor = rows[-1]["$id"]
        found.pop("", None)
        for tenant, ids in found.items():
            self.seen.setdefault(tenant, []).extend(ids)
        return found

    def clear(self, ids: Iterable[str]) -> int:
        """Delete the markers ``ids`` (absent ones are ignored); how many were deleted."""
        deleted = 0
        for chunk in chunks(sorted(set(ids))):
            try:
                result = self.tables.delete_rows(CORE_DATABASE_ID, OUTBOX_PENDING_TABLE,
                                                 [Query.equal("$id", list(chunk))])
            except AppwriteException as error:
                if is_missing(error):
                    return deleted
                raise unavailable("clearing pending markers", error) from error
            deleted += int(getattr(result, "total", 0) or 0)
        return deleted

    def mark(self, tenant_id: str, ids: Iterable[str]) -> None:
        """(Re)write markers for rows made pending again outside a business transaction (ops: reopen)."""
        for event_id in ids:
            try:
                self.tables.upsert_row(CORE_DATABASE_ID, OUTBOX_PENDING_TABLE, event_id, {"tenant_id": tenant_id})
            except AppwriteException as error:
                if is_missing(error):
                    return
                raise unavailable("marking pending rows", error) from error

    def settle(self, settled: Iterable[str], pending_by_tenant: dict[str, int],
               still_pending: Callable[[str, Sequence[str]], set[str]]) -> int:
        """After a sweep: delete the markers it read whose rows are no longer pending — those it settled, every
        one of a tenant it counted nothing pending in, and the rest once ``still_pending(tenant, ids)`` (one
        read per 100) says their rows were settled elsewhere (an event run leaves its marker to the sweep)."""
        settled = set(settled)
        doomed: set[str] = set()
        for tenant, ids in self.seen.items():
            if pending_by_tenant.get(tenant) == 0:
                doomed.update(ids)
                continue
            unsure = [i for i in ids if i not in settled]
            keep = still_pending(tenant, unsure) if unsure else set()
            doomed.update(i for i in ids if i not in keep)
        return self.clear(doomed) if doomed else 0


__all__ = ["MAX_MARKERS", "PendingMarkers"]
