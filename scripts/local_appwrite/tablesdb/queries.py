"""Appwrite Query JSON → SQL, always with bound parameters.

Each query is a JSON string such as ``{"method":"equal","attribute":"status","values":["a"]}``.
:func:`parse` turns a list of them into a :class:`Plan` (WHERE clause, ORDER BY, limit, offset,
cursor, select) for the fields a listing exposes; unknown methods or attributes and malformed
values are Appwrite's 400 ``general_query_invalid``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import AppwriteError
from .validation import normalize_datetime

MAX_QUERIES, MAX_QUERY_LENGTH, MAX_VALUES, MAX_LIMIT = 100, 4096, 500, 5000
DEFAULT_LIMIT = 25


@dataclass(frozen=True)
class Field:
    sql: str  # an SQL expression (a quoted column name)
    kind: str  # string | integer | double | boolean | datetime
    array: bool = False


@dataclass
class Plan:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (attribute, descending)
    limit: int | None = None
    offset: int = 0
    cursor: tuple[str, str] | None = None  # ("after" | "before", row id)
    select: list[str] | None = None
    random: bool = False

    @property
    def where_sql(self) -> str:
        return " AND ".join(self.where) if self.where else "1"


def invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_query_invalid", f"Invalid query: {message}")


def parse(queries: Any, fields: dict[str, Field]) -> Plan:
    plan = Plan()
    if queries in (None, ""):
        return plan
    if isinstance(queries, str | dict):
        queries = [queries]
    if not isinstance(queries, list) or len(queries) > MAX_QUERIES:
        raise invalid(f"Queries must be an array of at most {MAX_QUERIES} queries")
    for raw in queries:
        _apply(plan, _decode(raw), fields)
    return plan


def _decode(raw: Any) -> dict:
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or len(raw) > MAX_QUERY_LENGTH:
        raise invalid("Query must be a string of at most 4096 characters")
    try:
        query = json.loads(raw)
    except ValueError:
        raise invalid(f"Syntax error in {raw}") from None
    if not isinstance(query, dict) or not isinstance(query.get("method"), str):
        raise invalid(f"Syntax error in {raw}")
    return query


def _apply(plan: Plan, query: dict, fields: dict[str, Field]) -> None:
    method, values = query["method"], query.get("values") or []
    if not isinstance(values, list) or len(values) > MAX_VALUES:
        raise invalid(f"Query values of {method} must be an array of at most {MAX_VALUES} values")
    if method in {"orderAsc", "orderDesc"}:
        attribute = query.get("attribute") or "$sequence"
        _field(fields, attribute)
        plan.order.append((attribute, method == "orderDesc"))
    elif method == "orderRandom":
        plan.random = True
    elif method == "limit":
        plan.limit = _int_value(values, method, 0, MAX_LIMIT)
    elif method == "offset":
        plan.offset = _int_value(values, method, 0, None)
    elif method in {"cursorAfter", "cursorBefore"}:
        if len(values) != 1 or not isinstance(values[0], str) or not values[0]:
            raise invalid(f"{method} takes one row id")
        plan.cursor = ("after" if method == "cursorAfter" else "before", values[0])
    elif method == "select":
        for value in values:
            if value != "*" and not (isinstance(value, str) and value.startswith("$")):
                _field(fields, value)
        plan.select = (plan.select or []) + values
    else:
        sql, params = condition(query, fields)
        plan.where.append(sql)
        plan.params.extend(params)


def _int_value(values: list, method: str, low: int, high: int | None) -> int:
    if len(values) != 1:
        raise invalid(f"{method} takes one value")
    value = values[0]
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        limit = f" and {high}" if high is not None else ""
        raise invalid(f"Invalid {method} param: Value must be a valid range between {low}{limit}")
    return value


def _field(fields: dict[str, Field], attribute: Any) -> Field:
    found = fields.get(attribute) if isinstance(attribute, str) else None
    if found is None:
        raise invalid(f"Attribute not found in schema: {attribute}")
    return found


def condition(query: dict, fields: dict[str, Field]) -> tuple[str, list[Any]]:
    """One filter query (possibly ``or``/``and`` of nested ones) as ``(sql, params)``."""
    method, values = query.get("method"), query.get("values") or []
    if method in {"or", "and"}:
        if not values:
            raise invalid(f"{method} needs nested queries")
        parts = [condition(_decode(v), fields) for v in values]
        joiner = " OR " if method == "or" else " AND "
        return "(" + joiner.join(sql for sql, _ in parts) + ")", [p for _, params in parts for p in params]
    builder = _BUILDERS.get(method)  # type: ignore[arg-type]
    if builder is None:
        raise invalid(f"Query method not supported: {method}")
    column = _field(fields, query.get("attribute"))
    if method not in {"isNull", "isNotNull"} and not values:
        raise invalid(f"{method} queries require at least one value")
    converted = [_convert(column, v, method) for v in values]
    return builder(column, converted)


def _convert(column: Field, value: Any, method: str) -> Any:
    kind = column.kind
    if method in {"contains", "notContains", "containsAny", "containsAll", "startsWith", "endsWith", "search",
                  "notSearch", "notStartsWith", "notEndsWith"} and not column.array:
        if not isinstance(value, str):
            raise invalid(f"Query value for {method} on {column.sql} must be a string")
        return value
    if kind in {"integer", "double"}:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise invalid(f"Query value is invalid for numeric attribute: {value!r}")
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise invalid(f"Query value is invalid for boolean attribute: {value!r}")
        return int(value)
    if kind == "datetime":
        normalized = normalize_datetime(value)
        if normalized is None:
            raise invalid(f"Query value is invalid for datetime attribute: {value!r}")
        return normalized
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise invalid(f"Query value is invalid for string attribute: {value!r}")
    return value


def _marks(values: list) -> str:
    return ", ".join("?" * len(values))


def _array_any(column: Field, values: list) -> tuple[str, list]:
    return f"EXISTS (SELECT 1 FROM json_each({column.sql}) WHERE value IN ({_marks(values)}))", values


def _equal(column: Field, values: list) -> tuple[str, list]:
    if column.array:
        return _array_any(column, values)
    return f"{column.sql} IN ({_marks(values)})", values


def _negate(builder):  # type: ignore[no-untyped-def]
    def build(column: Field, values: list) -> tuple[str, list]:
        sql, params = builder(column, values)
        return f"({column.sql} IS NULL OR NOT {sql})", params

    return build


def _compare(operator: str):  # type: ignore[no-untyped-def]
    def build(column: Field, values: list) -> tuple[str, list]:
        return f"{column.sql} {operator} ?", values[:1]

    return build


def _between(column: Field, values: list) -> tuple[str, list]:
    if len(values) != 2:
        raise invalid("between takes a start and an end")
    return f"{column.sql} BETWEEN ? AND ?", values


def _contains(column: Field, values: list) -> tuple[str, list]:
    if column.array:
        return _array_any(column, values)
    return "(" + " OR ".join(f"instr({column.sql}, ?) > 0" for _ in values) + ")", values


def _contains_all(column: Field, values: list) -> tuple[str, list]:
    if not column.array:
        return "(" + " AND ".join(f"instr({column.sql}, ?) > 0" for _ in values) + ")", values
    parts = [f"EXISTS (SELECT 1 FROM json_each({column.sql}) WHERE value = ?)" for _ in values]
    return "(" + " AND ".join(parts) + ")", values


def _starts(column: Field, values: list) -> tuple[str, list]:
    return f"instr({column.sql}, ?) = 1", values[:1]


def _ends(column: Field, values: list) -> tuple[str, list]:
    return f"substr({column.sql}, -length(?)) = ?", [values[0], values[0]]


def _search(column: Field, values: list) -> tuple[str, list]:
    """Full-text-ish: every word of the term appears (case-insensitive)."""
    words = [w for w in " ".join(str(v) for v in values).split() if w.strip('"*+-')]
    if not words:
        return "1", []
    params = [w.strip('"*+-').lower() for w in words]
    return "(" + " AND ".join(f"instr(lower({column.sql}), ?) > 0" for _ in params) + ")", params


_BUILDERS = {
    "equal": _equal,
    "notEqual": _negate(_equal),
    "lessThan": _compare("<"),
    "lessThanEqual": _compare("<="),
    "greaterThan": _compare(">"),
    "greaterThanEqual": _compare(">="),
    "between": _between,
    "notBetween": _negate(_between),
    "isNull": lambda column, values: (f"{column.sql} IS NULL", []),
    "isNotNull": lambda column, values: (f"{column.sql} IS NOT NULL", []),
    "startsWith": _starts,
    "notStartsWith": _negate(_starts),
    "endsWith": _ends,
    "notEndsWith": _negate(_ends),
    "contains": _contains,
    "containsAny": _contains,
    "containsAll": _contains_all,
    "notContains": _negate(_contains),
    "search": _search,
    "notSearch": _negate(_search),
}
