"""The core ``audit_pending`` markers: which chains have entries written to be sealed later.

A high-volume audited change (a consulta) writes its entry unsealed and registers no seal after its
commit (``stage_entry(..., deferred=True)``): no head read, no seal transaction and no checkpoint on
the request path (7 Appwrite calls fewer per consulta). To tell the sweep where to look, the same
transaction creates a marker here (``stage_mark``; row id = the entry id, so it is a create of a fresh
row and concurrent changes never conflict over it). The entry is then sealed by whichever comes
first: the next change of that chain that seals at once (a sealer seals *every* unsealed entry in
write order) or the scheduled sweep (``seal_all``), which clears the markers it read once their chain
is sealed. Until then ``verify`` counts it as ``unsealed`` and gives it ``DEFERRED_GRACE_SECONDS``.

Like ``outbox_pending``: a marker may outlive its entry's unsealed state (a later visit finds nothing
and clears it), but a deferred entry never lacks one — both are in one transaction, and a marker is
deleted only after a seal that started after it was read.
"""

from __future__ import annotations

from collections.abc import Iterable

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..schema.core import AUDIT_PENDING_TABLE, CORE_DATABASE_ID
from ..uow import UnitOfWork

PAGE = 100  # Appwrite caps a page (and the values of one query) at 100


def marker(database_id: str, table_id: str) -> dict[str, str | None]:
    """The marker's columns: the chain, and the tenant it belongs to (``None`` for the platform trail)."""
    tenant = database_id[len("tenant_"):] if database_id.startswith("tenant_") else None
    return {"database_id": database_id, "table_id": table_id, "tenant_id": tenant}


def stage_mark(unit: UnitOfWork, database_id: str, table_id: str, entry_id: str) -> None:
    """Mark the chain as holding an unsealed entry, in the transaction that writes ``entry_id``."""
    unit.create(CORE_DATABASE_ID, AUDIT_PENDING_TABLE, entry_id, marker(database_id, table_id))


def marked(tables: TablesDB, database_id: str, table_id: str, limit: int = 1000) -> list[str]:
    """The marker ids of one chain, oldest first (what a seal about to start will cover)."""
    ids: list[str] = []
    cursor: str | None = None
    while len(ids) < limit:
        queries = [Query.equal("database_id", [database_id]), Query.equal("table_id", [table_id]),
                   Query.order_asc("$sequence"), Query.limit(min(PAGE, limit - len(ids)))]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        try:
            rows = tables.list_rows(CORE_DATABASE_ID, AUDIT_PENDING_TABLE, queries, total=False).rows
        except AppwriteException as error:
            if error.code == 404:  # a core database older than the markers: nothing marked
                return ids
            raise
        ids += [row.id for row in rows]
        if len(rows) < PAGE:
            return ids
        cursor = rows[-1].id
    return ids


def which_marked(tables: TablesDB, entry_ids: list[str]) -> set[str]:
    """Those of ``entry_ids`` (at most 100) that have a marker: entries written to be sealed later."""
    if not entry_ids:
        return set()
    queries = [Query.equal("$id", entry_ids[:PAGE]), Query.limit(PAGE)]
    try:
        rows = tables.list_rows(CORE_DATABASE_ID, AUDIT_PENDING_TABLE, queries, total=False).rows
    except AppwriteException as error:
        if error.code == 404:
            return set()
        raise
    return {row.id for row in rows}


def clear(tables: TablesDB, ids: Iterable[str]) -> int:
    """Delete the markers ``ids`` (absent ones are ignored); how many were deleted."""
    ordered = sorted(set(ids))
    deleted = 0
    for start in range(0, len(ordered), PAGE):
        result = tables.delete_rows(CORE_DATABASE_ID, AUDIT_PENDING_TABLE,
                                    [Query.equal("$id", ordered[start:start + PAGE])])
        deleted += int(getattr(result, "total", 0) or 0)
    return deleted


__all__ = ["clear", "marked", "marker", "stage_mark", "which_marked"]
