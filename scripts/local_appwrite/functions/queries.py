"""Appwrite queries (``Query.equal(...)`` JSON strings) over a list of documents, in Python.

Enough for listing executions and functions: comparisons, limit/offset, order and cursors.
Anything else is a 400 ``general_query_invalid``, as Appwrite answers for an unsupported query.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import AppwriteError

DEFAULT_LIMIT = 25
_COMPARE = {
    "equal": lambda v, vs: v in vs,
    "notEqual": lambda v, vs: v not in vs,
    "lessThan": lambda v, vs: v is not None and v < vs[0],
    "lessThanEqual": lambda v, vs: v is not None and v <= vs[0],
    "greaterThan": lambda v, vs: v is not None and v > vs[0],
    "greaterThanEqual": lambda v, vs: v is not None and v >= vs[0],
    "between": lambda v, vs: v is not None and vs[0] <= v <= vs[1],
    "isNull": lambda v, vs: v is None,
    "isNotNull": lambda v, vs: v is not None,
    "startsWith": lambda v, vs: isinstance(v, str) and v.startswith(vs[0]),
    "endsWith": lambda v, vs: isinstance(v, str) and v.endswith(vs[0]),
    "search": lambda v, vs: isinstance(v, str) and vs[0].lower() in v.lower(),
}


def invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_query_invalid", f"Invalid query: {message}")


def apply(docs: list[dict], raw_queries: Any, attributes: set[str]) -> tuple[list[dict], int]:
    """Filter, order and page ``docs``; return (page, total matching before paging)."""
    queries = [_parse(q) for q in _as_list(raw_queries)]
    limit, offset, cursor = DEFAULT_LIMIT, 0, None
    orders: list[tuple[str, bool]] = []
    for query in queries:
        method, attribute, values = query["method"], query.get("attribute", ""), query.get("values") or []
        if method in _COMPARE:
            if attribute not in attributes:
                raise invalid(f"Attribute not found in schema: {attribute}")
            docs = [d for d in docs if _COMPARE[method](d.get(attribute), values)]
        elif method == "limit":
            limit = int(values[0])
        elif method == "offset":
            offset = int(values[0])
        elif method in {"orderAsc", "orderDesc"}:
            orders.append((attribute or "$createdAt", method == "orderDesc"))
        elif method in {"cursorAfter", "cursorBefore"}:
            cursor = (method, str(values[0]))
        elif method != "select":
            raise invalid(f'Query method not valid: {method}')
    total = len(docs)
    for attribute, descending in reversed(orders):
        docs = sorted(docs, key=lambda d, a=attribute: (d.get(a) is None, d.get(a)), reverse=descending)
    if cursor is not None:
        ids = [d["$id"] for d in docs]
        if cursor[1] not in ids:
            raise AppwriteError(400, "general_cursor_not_found", f'Cursor "{cursor[1]}" not found.')
        at = ids.index(cursor[1])
        docs = docs[at + 1:] if cursor[0] == "cursorAfter" else docs[:at][::-1][:limit][::-1]
        if cursor[0] == "cursorBefore":
            return docs, total
    return docs[offset:offset + limit], total


def _as_list(raw: Any) -> list:
    if raw in (None, ""):
        return []
    return raw if isinstance(raw, list) else [raw]


def _parse(raw: Any) -> dict:
    try:
        query = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        raise invalid("Query must be valid JSON") from None
    if not isinstance(query, dict) or "method" not in query:
        raise invalid("Query must have a method")
    return query
