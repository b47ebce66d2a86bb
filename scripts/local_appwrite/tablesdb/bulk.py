"""Bulk row writes (``create_rows``, ``upsert_rows``, ``update_rows``, ``delete_rows``) on one connection.

Each runs inside the caller's single ``storage.write()``, so a batch applies entirely or not at all.
Without a ``limit`` query, ``update_rows``/``delete_rows`` touch every matching row.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..common import resolve_id
from ..errors import AppwriteError
from . import store
from .schema import TableMeta
from .validation import check_data

MAX_BATCH = 1000


def _rows_param(rows: Any) -> list[dict]:
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `rows` param: Value must be an array of objects")
    if len(rows) > MAX_BATCH:
        raise AppwriteError(400, "general_argument_invalid", f"Invalid `rows` param: at most {MAX_BATCH} rows")
    return rows


def create_many(conn: sqlite3.Connection, meta: TableMeta, rows: Any) -> list[dict]:
    return [store.insert(conn, meta, resolve_id(row.get("$id")), row) for row in _rows_param(rows)]


def upsert_many(conn: sqlite3.Connection, meta: TableMeta, rows: Any) -> list[dict]:
    return [store.upsert(conn, meta, resolve_id(row.get("$id")), row) for row in _rows_param(rows)]


def _matching_ids(conn: sqlite3.Connection, meta: TableMeta, queries: Any) -> list[str]:
    plan = store.plan_for(meta, queries)
    plan.select = []
    return [row["$id"] for row in store.select(conn, meta, plan, default_limit=None)]


def update_matching(conn: sqlite3.Connection, meta: TableMeta, data: Any, queries: Any) -> list[dict]:
    data = check_data(data)
    return [store.update(conn, meta, row_id, data) for row_id in _matching_ids(conn, meta, queries)]


def delete_matching(conn: sqlite3.Connection, meta: TableMeta, queries: Any) -> list[dict]:
    return [store.delete(conn, meta, row_id) for row_id in _matching_ids(conn, meta, queries)]
