"""Indexes: ``/tablesdb/{databaseId}/tables/{tableId}/indexes...``.

``key`` and ``unique`` indexes are real SQLite indexes; ``fulltext`` is accepted (``search`` works
without it). As on Appwrite, creation answers 202 ``processing``; a unique index over rows that
already hold duplicates does not fail the request: the index ends ``failed`` with an ``error``,
exactly what a caller polling ``get_index`` sees on a real server.
"""

from __future__ import annotations

import sqlite3

from ..common import dumps, now_iso
from ..errors import AppwriteError
from ..http import Request, Response, Router
from .schema import SYSTEM_COLUMNS, Index, TableMeta, check_key, create_physical_index, index_name, load_table
from .serialize import index_json
from .service import TablesService, no_content

INDEX_TYPES = frozenset({"key", "unique", "fulltext"})


def index_not_found() -> AppwriteError:
    return AppwriteError(404, "index_not_found", "Index with the requested ID could not be found.")


def add_index(
    conn: sqlite3.Connection, meta: TableMeta, key: str, kind: str, columns: list, orders: list, lengths: list
) -> Index:
    """Record the index and build it (inside the caller's write)."""
    if kind not in INDEX_TYPES:
        raise AppwriteError(400, "general_argument_invalid", "Invalid `type` param: Value must be one of (key, "
                            "unique, fulltext)")
    if not isinstance(columns, list) or not columns or not isinstance(orders, list) or not isinstance(lengths, list):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `columns` param: Value must be an array")
    if any(i.key == key for i in meta.indexes):
        raise AppwriteError(409, "index_already_exists", "Index with the requested key already exists.")
    for column in columns:
        if column not in meta.columns and column not in SYSTEM_COLUMNS:
            raise AppwriteError(400, "column_unknown", f"Unknown column: {column}. Verify the column name or "
                                "create the column.")
    now = now_iso()
    index = Index(key, kind, columns, [str(o).upper() for o in orders], lengths, "available", "", now, now)
    conn.execute("SAVEPOINT create_index")
    try:
        create_physical_index(conn, meta, index)
        conn.execute("RELEASE create_index")
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK TO create_index")
        conn.execute("RELEASE create_index")
        error = "Creating index failed: the table already holds duplicate values for its columns."
        index = Index(key, kind, columns, index.orders, lengths, "failed", error, now, now)
    conn.execute(
        "INSERT INTO tdb_indexes (table_seq, key, type, columns, orders, lengths, status, error, created, updated) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (meta.seq, key, kind, dumps(columns), dumps(index.orders), dumps(lengths), index.status, index.error, now,
         now),
    )
    meta.indexes.append(index)
    return index


def register(svc: TablesService, router: Router) -> None:
    base = "/tablesdb/{databaseId}/tables/{tableId}/indexes"

    def list_indexes(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803 - route names
        indexes = [index_json(i) for i in svc.table(databaseId, tableId).indexes]
        return {"total": len(indexes), "indexes": indexes}

    def get_index(request: Request, databaseId: str, tableId: str, key: str) -> dict:  # noqa: N803
        for index in svc.table(databaseId, tableId).indexes:
            if index.key == key:
                return index_json(index)
        raise index_not_found()

    def create_index(request: Request, databaseId: str, tableId: str) -> Response:  # noqa: N803
        key = check_key(request.require("key"), "key")
        kind = request.require("type")
        columns = request.require("columns")
        orders = request.param("orders") or []
        lengths = request.param("lengths") or []
        with svc.schema_write(databaseId) as conn:
            index = add_index(conn, load_table(conn, databaseId, tableId), key, kind, columns, orders, lengths)
        svc.invalidate(databaseId, tableId)
        return Response(202, {**index_json(index), "status": "processing", "error": ""})

    def delete_index(request: Request, databaseId: str, tableId: str, key: str) -> Response:  # noqa: N803
        with svc.schema_write(databaseId) as conn:
            meta = load_table(conn, databaseId, tableId)
            if not any(i.key == key for i in meta.indexes):
                raise index_not_found()
            conn.execute(f"DROP INDEX IF EXISTS {index_name(meta.seq, key)}")
            conn.execute("DELETE FROM tdb_indexes WHERE table_seq = ? AND key = ?", (meta.seq, key))
        svc.invalidate(databaseId, tableId)
        return no_content()

    router.add("GET", base, list_indexes, scope="indexes.read")
    router.add("POST", base, create_index, scope="indexes.write")
    router.add("GET", base + "/{key}", get_index, scope="indexes.read")
    router.add("DELETE", base + "/{key}", delete_index, scope="indexes.write")
