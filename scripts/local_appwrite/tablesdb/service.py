"""The TablesDB service object: storage, the per-table metadata cache and event publishing."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..http import Response
from .schema import DDL, TableMeta, load_table

if TYPE_CHECKING:
    from ..events import EventHub
    from ..storage import Storage

# For a create the legacy Databases event leads; for the other actions the TablesDB one does.
_CREATE_FIRST = ("databases.{db}.collections.{table}.documents.{row}.{action}",
                 "databases.{db}.tables.{table}.rows.{row}.{action}",
                 "tablesdb.{db}.tables.{table}.rows.{row}.{action}")
_OTHER_FIRST = ("databases.{db}.tables.{table}.rows.{row}.{action}",
                "databases.{db}.collections.{table}.documents.{row}.{action}",
                "tablesdb.{db}.tables.{table}.rows.{row}.{action}")


def no_content() -> Response:
    """Appwrite's 204: an empty body and no JSON content type (the SDK would try to parse it)."""
    return Response(204, b"", {"content-type": "text/plain"})


def created(body: dict, status: int = 201) -> Response:
    return Response(status, body)


class TablesService:
    def __init__(self, storage: Storage, events: EventHub) -> None:
        self.storage = storage
        self.events = events
        self._cache: dict[tuple[str, str], TableMeta] = {}
        self._cache_lock = threading.Lock()
        self._generation = 0  # bumped by every invalidation, so a load racing a schema change is not cached
        storage.migrate(DDL)

    def table(self, database_id: str, table_id: str) -> TableMeta:
        """The table's metadata from the cache (read from SQLite on a miss); 404 when missing."""
        meta = self._cache.get((database_id, table_id))
        if meta is not None:
            return meta
        generation = self._generation
        with self.storage.read() as conn:
            meta = load_table(conn, database_id, table_id)
        with self._cache_lock:
            if generation == self._generation:
                self._cache[(database_id, table_id)] = meta
        return meta

    def invalidate(self, database_id: str, table_id: str | None = None) -> None:
        """Forget cached metadata after a schema change (one table, or a whole database)."""
        with self._cache_lock:
            self._generation += 1
            for key in list(self._cache):
                if key[0] == database_id and (table_id is None or key[1] == table_id):
                    del self._cache[key]

    def publish(self, action: str, meta: TableMeta, row: dict) -> None:
        """Fire a row event; callers do this only after their write committed."""
        templates = _CREATE_FIRST if action == "create" else _OTHER_FIRST
        names = [t.format(db=meta.database_id, table=meta.id, row=row["$id"], action=action) for t in templates]
        self.events.publish(names, row)

    def publish_all(self, events: list[tuple[str, TableMeta, dict]]) -> None:
        for action, meta, row in events:
            self.publish(action, meta, row)
