"""Columns: ``/tablesdb/{databaseId}/tables/{tableId}/columns...``.

A new column answers ``processing`` (as Appwrite's 202 does) and is ``available`` from then on: the
SQLite ``ALTER TABLE`` has already run by the time the response leaves.
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from ..common import as_bool, dumps, now_iso
from ..errors import AppwriteError
from ..http import Request, Response, Router
from .schema import Column, TableMeta, check_key, index_name, load_table, quote
from .serialize import column_json
from .service import TablesService, no_content
from .validation import store_value

# route name → (stored type, format)
TYPES: dict[str, tuple[str, str]] = {
    "string": ("string", ""), "varchar": ("varchar", ""), "text": ("text", ""), "mediumtext": ("mediumtext", ""),
    "longtext": ("longtext", ""), "integer": ("integer", ""), "float": ("double", ""), "boolean": ("boolean", ""),
    "datetime": ("datetime", ""), "email": ("string", "email"), "url": ("string", "url"), "ip": ("string", "ip"),
    "enum": ("string", "enum"),
}
_OPTIONAL_SPEC = ("size", "min", "max", "elements", "encrypt", "description")


def column_not_found() -> AppwriteError:
    return AppwriteError(404, "column_not_found", "Column with the requested ID could not be found.")


def _number(value: Any, name: str, integer: bool) -> int | float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        message = f"Invalid `{name}` param: Value must be a number"
        raise AppwriteError(400, "general_argument_invalid", message) from None
    return int(number) if integer and number == int(number) else number


def build_spec(route_type: str, params: dict, previous: dict | None = None) -> dict:
    """Validate create/update params into the stored column spec."""
    stored, fmt = TYPES[route_type]
    spec: dict[str, Any] = dict(previous or {"type": stored, "format": fmt})
    for name in ("required", "array", "encrypt"):
        if name in params:
            spec[name] = as_bool(params[name])
    if "description" in params:
        spec["description"] = str(params["description"] or "")
    if stored in {"string", "varchar"} and fmt == "":
        size = _number(params.get("size", spec.get("size")), "size", True)
        if not isinstance(size, int) or size < 1:
            raise AppwriteError(400, "general_argument_invalid", "Invalid `size` param: Value must be a valid range")
        spec["size"] = size
    if stored in {"integer", "double"}:
        for name in ("min", "max"):
            if name in params:
                spec[name] = _number(params[name], name, stored == "integer")
        low, high = spec.get("min"), spec.get("max")
        if low is not None and high is not None and low > high:
            raise AppwriteError(400, "general_argument_invalid", "Minimum value must be lesser than maximum value")
    if fmt == "enum":
        elements = params.get("elements", spec.get("elements"))
        if not isinstance(elements, list) or not elements or not all(isinstance(e, str) and e for e in elements):
            raise AppwriteError(400, "general_argument_invalid", "Invalid `elements` param: Value must be an array")
        spec["elements"] = list(dict.fromkeys(elements))
    spec.setdefault("required", False)
    spec.setdefault("array", False)
    if "default" in params:
        spec["default"] = params["default"]
    default = spec.get("default")
    if default is not None:
        if spec["required"]:
            raise AppwriteError(400, "column_default_unsupported", "Cannot set default value for required column")
        if spec["array"]:
            raise AppwriteError(400, "column_default_unsupported", "Cannot set default value for array columns")
        probe = Column("default", stored, fmt, False, False, None, spec, "", "")
        try:
            stored_default = store_value(probe, default)
        except AppwriteError as error:
            message = error.message.split(": ", 1)[-1]
            raise AppwriteError(400, "column_value_invalid", f"Invalid `default` param: {message}") from None
        spec["default"] = bool(stored_default) if stored == "boolean" else stored_default
    return spec


def add_column(conn: sqlite3.Connection, meta: TableMeta, key: str, spec: dict, *, alter: bool = True) -> Column:
    """Record the column and add it to the SQLite table (inside the caller's write).

    ``alter=False``: the SQLite column already exists (the table was just created with it).
    """
    if key.lower() in meta.lower_keys:
        raise AppwriteError(409, "column_already_exists", "Column with the requested key already exists.")
    now = now_iso()
    conn.execute(
        "INSERT INTO tdb_columns (table_seq, key, position, spec, created, updated) VALUES "
        "(?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM tdb_columns WHERE table_seq = ?), ?, ?, ?)",
        (meta.seq, key, meta.seq, dumps(spec), now, now),
    )
    column = Column(key, spec["type"], spec["format"], spec["required"], spec["array"], spec.get("default"), spec,
                    now, now)
    if alter:
        conn.execute(f"ALTER TABLE {quote(meta.physical)} ADD COLUMN {quote(key)} {column.sql_type}")
    meta.lower_keys[key.lower()] = key
    meta.columns[key] = column  # this metadata object is the caller's fresh copy, never the cached one
    return column


def register(svc: TablesService, router: Router) -> None:
    base = "/tablesdb/{databaseId}/tables/{tableId}/columns"

    def list_columns(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803 - route names
        columns = [column_json(c) for c in svc.table(databaseId, tableId).columns.values()]
        return {"total": len(columns), "columns": columns}

    def get_column(request: Request, databaseId: str, tableId: str, key: str) -> dict:  # noqa: N803
        column = svc.table(databaseId, tableId).columns.get(key)
        if column is None:
            raise column_not_found()
        return column_json(column)

    def create(route_type: str):  # type: ignore[no-untyped-def]
        def handler(request: Request, databaseId: str, tableId: str) -> Response:  # noqa: N803
            key = check_key(request.require("key"), "key")
            spec = build_spec(route_type, request.params)
            with svc.schema_write(databaseId) as conn:
                column = add_column(conn, load_table(conn, databaseId, tableId), key, spec)
            svc.invalidate(databaseId, tableId)
            return Response(202, column_json(column, "processing"))

        return handler

    def update(route_type: str):  # type: ignore[no-untyped-def]
        def handler(request: Request, databaseId: str, tableId: str, key: str) -> dict:  # noqa: N803
            with svc.schema_write(databaseId) as conn:
                meta = load_table(conn, databaseId, tableId)
                column = meta.columns.get(key)
                if column is None:
                    raise column_not_found()
                if TYPES[route_type] != (column.type, column.format):
                    raise AppwriteError(400, "column_type_invalid", "Column type does not match the route.")
                params = {k: v for k, v in request.params.items() if k in (*_OPTIONAL_SPEC, "required", "default")}
                spec = build_spec(route_type, params, column.spec)
                new_key = request.param("newKey") or key
                if new_key != key:
                    check_key(new_key, "newKey")
                    if new_key.lower() in meta.lower_keys:
                        raise AppwriteError(409, "column_already_exists", "Column with the requested key exists.")
                    conn.execute(f"ALTER TABLE {quote(meta.physical)} RENAME COLUMN {quote(key)} TO {quote(new_key)}")
                now = now_iso()
                conn.execute(
                    "UPDATE tdb_columns SET key = ?, spec = ?, updated = ? WHERE table_seq = ? AND key = ?",
                    (new_key, dumps(spec), now, meta.seq, key),
                )
            svc.invalidate(databaseId, tableId)
            return column_json(replace(column, key=new_key, required=spec["required"], default=spec.get("default"),
                                       spec=spec, updated=now))

        return handler

    def delete_column(request: Request, databaseId: str, tableId: str, key: str) -> Response:  # noqa: N803
        with svc.schema_write(databaseId) as conn:
            meta = load_table(conn, databaseId, tableId)
            if key not in meta.columns:
                raise column_not_found()
            for index in meta.indexes:
                if key in index.columns:  # Appwrite drops the indexes a deleted column belonged to
                    conn.execute(f"DROP INDEX IF EXISTS {index_name(meta.seq, index.key)}")
                    conn.execute("DELETE FROM tdb_indexes WHERE table_seq = ? AND key = ?", (meta.seq, index.key))
            conn.execute(f"ALTER TABLE {quote(meta.physical)} DROP COLUMN {quote(key)}")
            conn.execute("DELETE FROM tdb_columns WHERE table_seq = ? AND key = ?", (meta.seq, key))
        svc.invalidate(databaseId, tableId)
        return no_content()

    router.add("GET", base, list_columns, scope="columns.read")
    for route_type in TYPES:
        router.add("POST", f"{base}/{route_type}", create(route_type), scope="columns.write")
        router.add("PATCH", f"{base}/{route_type}/{{key}}", update(route_type), scope="columns.write")
    router.add("GET", base + "/{key}", get_column, scope="columns.read")
    router.add("DELETE", base + "/{key}", delete_column, scope="columns.write")
