"""Lists of metadata (databases, tables, transactions) with queries, ``search`` and ``total``.

These lists are small, so the filtered rows are read in order and the cursor, offset and limit are
applied in Python; rows use the keyset SQL in ``store.select`` instead.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from ..common import as_bool
from ..errors import AppwriteError
from . import queries
from .queries import Field


def list_rows(
    conn: sqlite3.Connection,
    table: str,
    fields: dict[str, Field],
    request_params: dict,
    render: Callable[[sqlite3.Row], dict],
    key: str,
    scope: tuple[str, list[Any]] = ("1", []),
    search_columns: tuple[str, ...] = ("name",),
) -> dict:
    plan = queries.parse(request_params.get("queries"), fields)
    where, params = [scope[0], plan.where_sql], [*scope[1], *plan.params]
    term = request_params.get("search")
    if isinstance(term, str) and term.strip():
        where.append("(" + " OR ".join(f"instr(lower({c}), ?) > 0" for c in search_columns) + ")")
        params += [term.strip().lower()] * len(search_columns)
    order = [f"{fields[attr].sql} {'DESC' if desc else 'ASC'}" for attr, desc in plan.order] + ["rowid ASC"]
    sql = f"SELECT * FROM {table} WHERE {' AND '.join(where)} ORDER BY {', '.join(order)}"
    found = conn.execute(sql, params).fetchall()
    total = len(found) if as_bool(request_params.get("total"), True) else 0
    limit = plan.limit if plan.limit is not None else queries.DEFAULT_LIMIT
    start = plan.offset
    if plan.cursor is not None:
        ids = [row["id"] for row in found]
        if plan.cursor[1] not in ids:
            raise AppwriteError(400, "general_cursor_not_found", "The cursor value was not found.")
        at = ids.index(plan.cursor[1])
        if plan.cursor[0] == "after":
            found = found[at + 1:]
        else:  # the page just before the cursor, counting the offset backwards from it
            found = found[:max(0, at - plan.offset)]
            start = max(0, len(found) - limit)
    return {"total": total, key: [render(row) for row in found[start:start + limit]]}
