"""Staged transaction operations: their shape, and how one is applied to the tables.

An operation is ``{action, databaseId, tableId, rowId, data}`` (the legacy ``collectionId`` and
``documentId`` names are accepted too). ``apply`` runs it on a connection inside a write and returns
the row events it would fire (none for bulk actions).
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any

from ..common import resolve_id
from ..errors import AppwriteError
from . import bulk, store
from .schema import TableMeta
from .validation import check_data

if TYPE_CHECKING:
    from .service import TablesService

ROW_ACTIONS = frozenset({"create", "update", "upsert", "delete", "increment", "decrement"})
BULK_ACTIONS = frozenset({"bulkCreate", "bulkUpdate", "bulkUpsert", "bulkDelete"})
CHECKED_ACTIONS = frozenset({"create", "update", "upsert", "delete"})  # increments are atomic deltas
Event = tuple[str, TableMeta, dict]


def normalize(raw: Any) -> dict:
    """Validate one operation from ``create_operations`` (or a row call) into its stored form."""
    if not isinstance(raw, dict):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `operations` param: each must be an object")
    action = raw.get("action")
    if action not in ROW_ACTIONS | BULK_ACTIONS:
        raise AppwriteError(400, "general_argument_invalid", f"Invalid operation action: {action!r}")
    database_id = raw.get("databaseId")
    table_id = raw.get("tableId") or raw.get("collectionId")
    if not isinstance(database_id, str) or not isinstance(table_id, str) or not database_id or not table_id:
        raise AppwriteError(400, "general_argument_invalid", "Invalid operation: databaseId and tableId are required")
    row_id = raw.get("rowId") or raw.get("documentId")
    if action in ROW_ACTIONS:
        row_id = resolve_id(row_id) if action in {"create", "upsert"} else row_id
        if not isinstance(row_id, str) or not row_id:
            raise AppwriteError(400, "general_argument_invalid", f"Invalid operation: {action} needs a rowId")
    data = raw.get("data")
    if action in {"create", "update", "upsert"}:
        data = check_data(data)
    elif action in {"bulkCreate", "bulkUpsert"} and not isinstance(data, list):
        raise AppwriteError(400, "general_argument_invalid", f"Invalid operation: {action} data must be an array")
    elif action in {"increment", "decrement", "bulkUpdate", "bulkDelete"}:
        data = check_data(data)
    return {"action": action, "databaseId": database_id, "tableId": table_id, "rowId": row_id, "data": data}


def apply(svc: TablesService, conn: sqlite3.Connection, op: dict) -> list[Event]:
    meta = svc.table_on(conn, op["databaseId"], op["tableId"])
    action, row_id, data = op["action"], op["rowId"], op["data"]
    if action == "create":
        return [("create", meta, store.insert(conn, meta, row_id, data))]
    if action == "update":
        return [("update", meta, store.update(conn, meta, row_id, data))]
    if action == "upsert":
        return [("upsert", meta, store.upsert(conn, meta, row_id, data))]
    if action == "delete":
        return [("delete", meta, store.delete(conn, meta, row_id))]
    if action in {"increment", "decrement"}:
        decrement = action == "decrement"
        bound = data.get("min" if decrement else "max")
        row = store.increment(conn, meta, row_id, data.get("column"), data.get("value"), bound, decrement)
        return [("update", meta, row)]
    if action == "bulkCreate":
        bulk.create_many(conn, meta, data)
    elif action == "bulkUpsert":
        bulk.upsert_many(conn, meta, data)
    elif action == "bulkUpdate":
        bulk.update_matching(conn, meta, data.get("data"), data.get("queries"))
    else:
        bulk.delete_matching(conn, meta, data.get("queries"))
    return []
