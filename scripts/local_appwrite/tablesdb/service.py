"""The TablesDB service object: storage, the per-table metadata cache and event publishing.

Where rows live: each Appwrite database has its own SQLite file, ``databases/<n>.sqlite3`` (``n`` =
``tdb_files.seq``, never reused, so a deleted database's file is never confused with a new one). Row
reads and writes open only that file (``rows_read``/``rows_write``); writes that span the metadata or
several databases (schema changes, transactions) run on the stack file and ``attach`` the files they
touch, so they commit atomically. A database made by an older stack (no ``tdb_files`` row) keeps its
tables in the stack file and is served from there.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import AppwriteError
from ..http import Response
from ..storage import AttachLimit, FileMissing
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
        self._paths: dict[int, Path] = {}  # file number -> its path (numbers are never reused)
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

    # -- files -----------------------------------------------------------------------------------------------

    def path(self, file: int) -> Path:
        path = self._paths.get(file)  # kept: a Path join per row call was measurable
        if path is None:
            path = self._paths[file] = self.storage.databases_dir / f"{file}.sqlite3"
        return path

    @contextmanager
    def rows_read(self, meta: TableMeta) -> Iterator[sqlite3.Connection]:
        """A connection that sees ``meta``'s rows: its database's file only."""
        if meta.file is None:
            with self.storage.read() as conn:
                yield conn
            return
        with _missing_as_404(), self.storage.read_file(self.path(meta.file)) as conn:
            yield conn

    @contextmanager
    def rows_write(self, meta: TableMeta) -> Iterator[sqlite3.Connection]:
        if meta.file is None:
            with self.storage.write() as conn:
                yield conn
            return
        with _missing_as_404(), self.storage.write_file(self.path(meta.file)) as conn:
            yield conn

    def on(self, conn: sqlite3.Connection, meta: TableMeta) -> TableMeta:
        """``meta``, with its database's file attached to ``conn`` (a stack-file write)."""
        if meta.file is not None:
            with _missing_as_404():
                self.storage.attach(conn, meta.schema, self.path(meta.file))
        return meta

    def table_on(self, conn: sqlite3.Connection, database_id: str, table_id: str) -> TableMeta:
        return self.on(conn, self.table(database_id, table_id))

    def attach_database(self, conn: sqlite3.Connection, database_id: str) -> str:
        """Attach ``database_id``'s file to ``conn`` (a stack-file write); the schema name its tables are in."""
        row = conn.execute("SELECT seq FROM tdb_files WHERE database_id = ?", (database_id,)).fetchone()
        if row is None:
            return "main"
        alias = f"d{row[0]}"
        with _missing_as_404():
            self.storage.attach(conn, alias, self.path(row[0]))
        return alias

    @contextmanager
    def schema_write(self, database_id: str) -> Iterator[sqlite3.Connection]:
        """A stack-file write (metadata) with the database's file attached (its DDL): one atomic commit."""
        with self.storage.write() as conn:
            self.attach_database(conn, database_id)
            yield conn

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


@contextmanager
def _missing_as_404() -> Iterator[None]:
    try:
        yield
    except FileMissing:
        raise AppwriteError(404, "database_not_found", "Database not found") from None
    except AttachLimit as error:
        raise AppwriteError(400, "transaction_limit_exceeded", f"A transaction can span {error}.") from None
