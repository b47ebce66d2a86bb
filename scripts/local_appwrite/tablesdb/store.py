"""Row storage on one SQLite connection: the operations shared by direct calls and transactions.

Every function takes a connection already inside ``storage.write()`` (or ``read()`` for reads) and
returns Row JSON; nothing here publishes events or opens transactions of its own.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

from ..common import dumps, now_iso
from ..errors import AppwriteError
from . import queries
from .queries import Field, Plan
from .schema import NUMERIC_TYPES, TableMeta, quote
from .serialize import row_json
from .validation import bounds, prepare_create, prepare_update

SYSTEM_FIELDS = {
    "$id": Field("_uid", "string"),
    "$sequence": Field("_seq", "integer"),
    "$createdAt": Field("_created", "datetime"),
    "$updatedAt": Field("_updated", "datetime"),
}


def row_not_found() -> AppwriteError:
    return AppwriteError(404, "row_not_found", "Row with the requested ID could not be found.")


def fields(meta: TableMeta) -> dict[str, Field]:
    """The attributes queries may use on this table (cached on the metadata object)."""
    cached = getattr(meta, "_fields", None)
    if cached is None:
        cached = dict(SYSTEM_FIELDS)
        for key, column in meta.columns.items():
            kind = "string" if column.type not in {"integer", "double", "boolean", "datetime"} else column.type
            cached[key] = Field(quote(key), kind, column.array)
        meta._fields = cached  # type: ignore[attr-defined]
    return cached


def fetch(conn: sqlite3.Connection, meta: TableMeta, row_id: str, select: list[str] | None = None) -> dict | None:
    found = conn.execute(meta.select_sql + " WHERE _uid = ?", (row_id,)).fetchone()
    return None if found is None else row_json(meta, found, select)


def version(conn: sqlite3.Connection, meta: TableMeta, row_id: str) -> int | None:
    found = conn.execute(f"SELECT _version FROM {quote(meta.physical)} WHERE _uid = ?", (row_id,)).fetchone()
    return None if found is None else found[0]


def _integrity(error: sqlite3.IntegrityError) -> AppwriteError:
    if "._uid" in str(error):
        return AppwriteError(
            409, "row_already_exists",
            "Row with the requested ID already exists. Try again with a different ID or use ID.unique() to "
            "generate a unique ID.",
        )
    message = "Row with the requested unique attributes already exists."
    return AppwriteError(409, "row_unique_constraint_violation", message)


def _permissions(value: Any) -> str:
    if value is None:
        return "[]"
    if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `permissions` param: Value must be an array")
    return dumps(list(dict.fromkeys(value)))


def insert(conn: sqlite3.Connection, meta: TableMeta, row_id: str, data: dict, permissions: Any = None) -> dict:
    values = prepare_create(meta, data)
    perms = _permissions(permissions if permissions is not None else data.get("$permissions"))
    now = now_iso()
    # Appwrite (1.6+) lets an API key set a row's timestamps on create (migrations, restores).
    created = _timestamp(data.get("$createdAt")) or now
    updated = _timestamp(data.get("$updatedAt")) or created
    names = "".join(", " + quote(k) for k in values)
    marks = ", ?" * len(values)
    try:
        cursor = conn.execute(
            f"INSERT INTO {quote(meta.physical)} (_uid, _created, _updated, _perms{names}) VALUES (?, ?, ?, ?{marks})",
            (row_id, created, updated, perms, *values.values()),
        )
    except sqlite3.IntegrityError as error:
        raise _integrity(error) from None
    return row_json(meta, (cursor.lastrowid, row_id, created, updated, perms, *values.values()))


def _timestamp(value: Any) -> str | None:
    """A client-set ``$createdAt``/``$updatedAt`` in Appwrite's stored form (``None`` when not given)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise AppwriteError(400, "general_argument_invalid", "Invalid `$createdAt`: not a datetime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def update(conn: sqlite3.Connection, meta: TableMeta, row_id: str, data: dict, permissions: Any = None) -> dict:
    values = prepare_update(meta, data)
    if permissions is None and "$permissions" in data:
        permissions = data["$permissions"]
    sets = [f"{quote(k)} = ?" for k in values]
    params: list[Any] = list(values.values())
    if permissions is not None:
        sets.append("_perms = ?")
        params.append(_permissions(permissions))
    sets += ["_updated = ?", "_version = _version + 1"]
    params += [now_iso(), row_id]
    try:
        cursor = conn.execute(f"UPDATE {quote(meta.physical)} SET {', '.join(sets)} WHERE _uid = ?", params)
    except sqlite3.IntegrityError as error:
        raise _integrity(error) from None
    if cursor.rowcount == 0:
        raise row_not_found()
    return fetch(conn, meta, row_id)  # type: ignore[return-value]


def upsert(conn: sqlite3.Connection, meta: TableMeta, row_id: str, data: dict, permissions: Any = None) -> dict:
    if version(conn, meta, row_id) is None:
        return insert(conn, meta, row_id, data, permissions)
    return update(conn, meta, row_id, data, permissions)


def delete(conn: sqlite3.Connection, meta: TableMeta, row_id: str) -> dict:
    row = fetch(conn, meta, row_id)
    if row is None:
        raise row_not_found()
    conn.execute(f"DELETE FROM {quote(meta.physical)} WHERE _uid = ?", (row_id,))
    return row


def increment(
    conn: sqlite3.Connection, meta: TableMeta, row_id: str, key: str, by: Any, bound: Any, decrement: bool
) -> dict:
    """Add (or subtract) ``by`` atomically: one conditional UPDATE checks the bound on the result."""
    column = meta.columns.get(key)
    if column is None:
        raise AppwriteError(404, "column_not_found", "Column with the requested ID could not be found.")
    if column.type not in NUMERIC_TYPES or column.array:
        raise AppwriteError(400, "attribute_type_invalid", f'Column "{key}" is not a numeric column.')
    by = 1 if by is None else by
    if isinstance(by, bool) or not isinstance(by, int | float) or by <= 0:
        raise AppwriteError(400, "general_argument_invalid", "Invalid `value` param: Value must be a number above 0")
    if column.type == "integer":
        if by != int(by):
            raise AppwriteError(400, "general_argument_invalid", "Invalid `value` param: Value must be an integer")
        by = int(by)
    low, high = bounds(column)
    if bound is not None:
        if isinstance(bound, bool) or not isinstance(bound, int | float):
            raise AppwriteError(400, "general_argument_invalid", "Invalid bound: Value must be a number")
        low, high = (max(low, bound), high) if decrement else (low, min(high, bound))
    delta = -by if decrement else by
    name = quote(key)
    check = f"COALESCE({name}, 0) + ? {'>=' if decrement else '<='} ?"
    cursor = conn.execute(
        f"UPDATE {quote(meta.physical)} SET {name} = COALESCE({name}, 0) + ?, _updated = ?, _version = _version + 1 "
        f"WHERE _uid = ? AND {check}",
        (delta, now_iso(), row_id, delta, low if decrement else high),
    )
    if cursor.rowcount == 0:
        if version(conn, meta, row_id) is None:
            raise row_not_found()
        limit = f"minimum {low}" if decrement else f"maximum {high}"
        raise AppwriteError(400, "column_limit_exceeded", f'Value of column "{key}" would go past its {limit}.')
    return fetch(conn, meta, row_id)  # type: ignore[return-value]


def select(conn: sqlite3.Connection, meta: TableMeta, plan: Plan, default_limit: int | None = 25) -> list[dict]:
    """Rows matching ``plan``: filters, order (``$sequence`` as tie-break), cursor, offset and limit."""
    known = fields(meta)
    order = [(known[attr].sql, desc) for attr, desc in plan.order]
    if not any(sql == "_seq" for sql, _ in order):
        order.append(("_seq", False))  # a stable tie-break, as Appwrite's ``_id ASC``
    where, params = [plan.where_sql], list(plan.params)
    before = plan.cursor is not None and plan.cursor[0] == "before"
    if plan.cursor is not None:
        sql, cursor_params = _cursor(conn, meta, order, plan.cursor[1], before)
        where.append(sql)
        params += cursor_params
    if before:
        order = [(sql, not desc) for sql, desc in order]
    order_sql = "RANDOM()" if plan.random else ", ".join(f"{sql} {'DESC' if desc else 'ASC'}" for sql, desc in order)
    limit = plan.limit if plan.limit is not None else default_limit
    sql = f"{meta.select_sql} WHERE {' AND '.join(where)} ORDER BY {order_sql} LIMIT ? OFFSET ?"
    found = conn.execute(sql, (*params, -1 if limit is None else limit, plan.offset)).fetchall()
    if before:
        found.reverse()
    selection = None if plan.select is None or "*" in plan.select else plan.select
    return [row_json(meta, row, selection) for row in found]


def count(conn: sqlite3.Connection, meta: TableMeta, plan: Plan) -> int:
    sql = f"SELECT COUNT(*) FROM {quote(meta.physical)} WHERE {plan.where_sql}"
    return conn.execute(sql, plan.params).fetchone()[0]


def _cursor(
    conn: sqlite3.Connection, meta: TableMeta, order: list[tuple[str, bool]], row_id: str, before: bool
) -> tuple[str, list]:
    """Keyset condition: rows strictly after (or before) the cursor row in the sort order."""
    exprs = ", ".join(sql for sql, _ in order)
    anchor = conn.execute(f"SELECT {exprs} FROM {quote(meta.physical)} WHERE _uid = ?", (row_id,)).fetchone()
    if anchor is None:
        raise AppwriteError(400, "general_cursor_not_found", f"Row '{row_id}' for the 'cursor' value not found.")
    ors, params = [], []
    for i, (sql, desc) in enumerate(order):
        ascending_after = desc == before  # "after" in an ascending order means greater
        parts = [f"{prev} IS ?" for prev, _ in order[:i]]
        parts.append(f"{sql} {'>' if ascending_after else '<'} ?")
        ors.append("(" + " AND ".join(parts) + ")")
        params += [anchor[j] for j in range(i)] + [anchor[i]]
    return "(" + " OR ".join(ors) + ")", params


def plan_for(meta: TableMeta, raw_queries: Any) -> Plan:
    return queries.parse(raw_queries, fields(meta))
