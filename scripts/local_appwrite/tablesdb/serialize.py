"""Response shapes: what the SDK's models (and Appwrite's OpenAPI schemas) expect."""

from __future__ import annotations

import sqlite3
from typing import Any

from ..common import loads
from .schema import Column, Index, TableMeta

_STRING_SIZES = {"text": 65535, "mediumtext": 16777215, "longtext": 4294967295}


def database_json(row: sqlite3.Row) -> dict:
    return {
        "$id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "$createdAt": row["created"],
        "$updatedAt": row["updated"],
        "enabled": bool(row["enabled"]),
        "type": "tablesdb",
    }


def column_json(column: Column, status: str = "available") -> dict:
    spec = column.spec
    body: dict[str, Any] = {
        "key": column.key,
        "description": spec.get("description", ""),
        "type": column.type,
        "status": status,
        "error": "",
        "required": column.required,
        "array": column.array,
        "$createdAt": column.created,
        "$updatedAt": column.updated,
        "default": column.default,
    }
    if column.type in {"string", "varchar"} and not column.format:
        body["size"] = spec["size"]
    if column.type in {"string", "varchar", "text", "mediumtext", "longtext"} and not column.format:
        body["encrypt"] = bool(spec.get("encrypt", False))
    if column.type in {"integer", "double"}:
        body["min"] = spec.get("min")
        body["max"] = spec.get("max")
    if column.format:
        body["format"] = column.format
    if column.format == "enum":
        body["elements"] = list(spec.get("elements", []))
    if column.type == "datetime":
        body["format"] = "datetime"
    return body


def index_json(index: Index) -> dict:
    return {
        "$id": index.key,
        "$createdAt": index.created,
        "$updatedAt": index.updated,
        "key": index.key,
        "description": "",
        "type": index.type,
        "status": index.status,
        "error": index.error,
        "columns": list(index.columns),
        "lengths": list(index.lengths),
        "orders": list(index.orders),
    }


def table_json(meta: TableMeta) -> dict:
    return {
        "$id": meta.id,
        "$createdAt": meta.created,
        "$updatedAt": meta.updated,
        "$permissions": list(meta.permissions),
        "databaseId": meta.database_id,
        "name": meta.name,
        "description": meta.description,
        "enabled": meta.enabled,
        "rowSecurity": meta.row_security,
        "columns": [column_json(c) for c in meta.columns.values()],
        "indexes": [index_json(i) for i in meta.indexes],
        "bytesMax": 0,
        "bytesUsed": 0,
    }


def transaction_json(row: sqlite3.Row) -> dict:
    return {
        "$id": row["id"],
        "$createdAt": row["created"],
        "$updatedAt": row["updated"],
        "status": row["status"],
        "operations": row["operations"],
        "expiresAt": row["expires"],
    }


def row_json(meta: TableMeta, row: sqlite3.Row | tuple, select: list[str] | None = None) -> dict:
    """A stored row (selected with ``meta.select_sql``) as Appwrite's Row."""
    body: dict[str, Any] = {}
    for position, column in enumerate(meta.columns.values(), start=5):
        if select is not None and column.key not in select:
            continue
        body[column.key] = to_json_value(column, row[position])
    body.update(
        {
            "$id": row[1],
            "$sequence": str(row[0]),
            "$tableId": meta.id,
            "$databaseId": meta.database_id,
            "$createdAt": row[2],
            "$updatedAt": row[3],
            "$permissions": loads(row[4], []),
        }
    )
    return body


def to_json_value(column: Column, value: Any) -> Any:
    if value is None:
        return [] if column.array else None
    if column.array:
        return loads(value, [])
    if column.type == "boolean":
        return bool(value)
    if column.type == "double":
        return float(value)
    return value


def string_size(column: Column) -> int | None:
    if column.type in {"string", "varchar"}:
        return column.spec.get("size")
    return _STRING_SIZES.get(column.type)
