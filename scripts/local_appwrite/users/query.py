"""Appwrite list queries evaluated in Python over documents (users, teams, memberships, sessions).

These collections are small on a dev stack, so a list route loads every document in insertion
order and lets :func:`run_list` filter, sort and page them the way Appwrite's database does. The
query strings are the SDK's JSON (``{"method": "equal", "attribute": "name", "values": [...]}``);
anything Appwrite rejects is rejected with the same 400 ``general_query_invalid``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import AppwriteError

DEFAULT_LIMIT = 25
MAX_QUERIES = 100
MAX_QUERY_LENGTH = 4096
MAX_OFFSET = 5000
INTERNAL_ATTRIBUTES = frozenset({"$id", "$createdAt", "$updatedAt"})
_FILTERS = frozenset(
    {
        "equal", "notEqual", "lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual", "between",
        "notBetween", "isNull", "isNotNull", "startsWith", "notStartsWith", "endsWith", "notEndsWith",
        "contains", "containsAny", "containsAll", "notContains", "search", "notSearch", "or", "and",
    }
)
_ARRAY_METHODS = frozenset({"contains", "containsAny", "containsAll", "notContains", "isNull", "isNotNull"})
_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+")


@dataclass(frozen=True)
class Schema:
    """What a collection may be queried on: scalar attributes and array attributes."""

    attributes: frozenset[str]
    arrays: frozenset[str] = field(default_factory=frozenset)

    def knows(self, attribute: str) -> bool:
        return attribute in self.attributes or attribute in self.arrays or attribute in INTERNAL_ATTRIBUTES


def invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "general_query_invalid", f"Invalid query: {message}")


def parse(queries: Any) -> list[dict]:
    """Decode the ``queries`` param (a list of JSON strings) into query dicts."""
    if queries in (None, ""):
        return []
    if isinstance(queries, str):
        queries = [queries]
    if not isinstance(queries, list):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `queries` param: Value must be an array.")
    if len(queries) > MAX_QUERIES:
        raise AppwriteError(
            400, "general_argument_invalid", f"Invalid `queries` param: Value must be an array of at most {MAX_QUERIES}"
        )
    parsed = []
    for raw in queries:
        if isinstance(raw, dict):
            parsed.append(raw)
            continue
        if not isinstance(raw, str) or len(raw) > MAX_QUERY_LENGTH:
            raise invalid("Syntax error")
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise invalid(f"Syntax error in {raw!r}") from None
        if not isinstance(decoded, dict) or not isinstance(decoded.get("method"), str):
            raise invalid("Syntax error")
        parsed.append(decoded)
    return parsed


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def fulltext_match(haystack: str, needle: str) -> bool:
    """MariaDB boolean-mode full text as Appwrite uses it: any term of ``needle`` starts a word."""
    terms = words(needle)
    if not terms:
        return True
    available = words(haystack)
    return any(any(word.startswith(term) for word in available) for term in terms)


def _values(query: dict) -> list:
    values = query.get("values", [])
    return values if isinstance(values, list) else [values]


def _compare(value: Any, other: Any) -> tuple[bool, int]:
    """Three-way compare that never raises: ``(comparable, sign)``."""
    if value is None or other is None:
        return False, 0
    if (isinstance(value, bool) or isinstance(other, bool)) and type(value) is not type(other):
        return False, 0
    if isinstance(value, int | float) and isinstance(other, int | float):
        return True, (value > other) - (value < other)
    value, other = str(value), str(other)
    return True, (value > other) - (value < other)


def _equals(value: Any, other: Any) -> bool:
    comparable, sign = _compare(value, other)
    return comparable and sign == 0


def _check(query: dict, schema: Schema) -> None:
    method = query["method"]
    if method in {"or", "and"}:
        nested = _values(query)
        if not nested or not all(isinstance(q, dict) and isinstance(q.get("method"), str) for q in nested):
            raise invalid(f"{method} queries require at least one nested query")
        for sub in nested:
            if sub["method"] not in _FILTERS:
                raise invalid(f"{method} queries can only contain filter queries")
            _check(sub, schema)
        return
    attribute = query.get("attribute", "")
    if not schema.knows(attribute):
        raise invalid(f"Attribute not found in schema: {attribute}")
    if attribute in schema.arrays and method not in _ARRAY_METHODS:
        raise invalid(f'Cannot query {method} on attribute "{attribute}" because it is an array.')
    if method in {"between", "notBetween"} and len(_values(query)) != 2:
        raise invalid(f"{method} queries require exactly two values.")
    if method not in {"isNull", "isNotNull"} and not _values(query):
        raise invalid(f"{method} queries require at least one value.")


def _matches(doc: dict, query: dict) -> bool:
    method = query["method"]
    values = _values(query)
    if method == "or":
        return any(_matches(doc, sub) for sub in values)
    if method == "and":
        return all(_matches(doc, sub) for sub in values)
    value = doc.get(query.get("attribute", ""))
    if method == "isNull":
        return value in (None, "")
    if method == "isNotNull":
        return value not in (None, "")
    if isinstance(value, list):
        items = [str(v).lower() if isinstance(v, str) else v for v in value]
        wanted = [str(v).lower() if isinstance(v, str) else v for v in values]
        if method in {"contains", "containsAny"}:
            return any(w in items for w in wanted)
        if method == "containsAll":
            return all(w in items for w in wanted)
        if method == "notContains":
            return not any(w in items for w in wanted)
        return False
    if method == "equal":
        return any(_equals(value, v) for v in values)
    if method == "notEqual":
        return not any(_equals(value, v) for v in values)
    if method in {"lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual"}:
        comparable, sign = _compare(value, values[0])
        ok = {"lessThan": sign < 0, "lessThanEqual": sign <= 0, "greaterThan": sign > 0, "greaterThanEqual": sign >= 0}
        return comparable and ok[method]
    if method in {"between", "notBetween"}:
        low_ok, low = _compare(value, values[0])
        high_ok, high = _compare(value, values[1])
        inside = low_ok and high_ok and low >= 0 and high <= 0
        return inside if method == "between" else not inside
    text = "" if value is None else str(value)
    if method == "startsWith":
        return text.startswith(str(values[0]))
    if method == "notStartsWith":
        return not text.startswith(str(values[0]))
    if method == "endsWith":
        return text.endswith(str(values[0]))
    if method == "notEndsWith":
        return not text.endswith(str(values[0]))
    if method == "contains":
        return any(str(v) in text for v in values)
    if method == "notContains":
        return not any(str(v) in text for v in values)
    if method == "search":
        return fulltext_match(text, str(values[0]))
    if method == "notSearch":
        return not fulltext_match(text, str(values[0]))
    return False


def _int_value(query: dict, name: str, low: int, high: int | None) -> int:
    values = _values(query)
    value = values[0] if values else None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"between {low} and {high:,}" if high is not None else f"at least {low}"
        raise invalid(f"Invalid {name}: Value must be a valid range {bound}")
    return value


def _sort_key(value: Any) -> tuple:
    if value is None or value == "":
        return (0, "")
    if isinstance(value, bool):
        return (1, int(value))
    if isinstance(value, int | float):
        return (1, value)
    return (2, str(value))


def run_list(
    documents: list[dict],
    queries: Any,
    schema: Schema,
    *,
    search: str | None = None,
    search_text: Callable[[dict], str] | None = None,
    total: Any = True,
    key: str,
) -> dict:
    """Apply Appwrite ``queries`` and ``search`` to ``documents`` (insertion order) → list envelope."""
    parsed = parse(queries)
    filters: list[dict] = []
    orders: list[tuple[str, bool]] = []
    limit, offset, cursor = DEFAULT_LIMIT, 0, None
    for query in parsed:
        method = query["method"]
        if method == "limit":
            limit = _int_value(query, "limit", 1, None)
        elif method == "offset":
            offset = _int_value(query, "offset", 0, MAX_OFFSET)
        elif method in {"cursorAfter", "cursorBefore"}:
            values = _values(query)
            if not values or not isinstance(values[0], str):
                raise invalid("Cursor must be a document ID")
            cursor = (method, values[0])
        elif method in {"orderAsc", "orderDesc"}:
            attribute = query.get("attribute", "")
            if not schema.knows(attribute):
                raise invalid(f"Attribute not found in schema: {attribute}")
            orders.append((attribute, method == "orderDesc"))
        elif method == "select":
            continue  # the whole document is always returned, which a select() caller tolerates
        elif method in _FILTERS:
            _check(query, schema)
            filters.append(query)
        else:
            raise invalid(f"Invalid query method: {method}")

    ordered = list(documents)
    for attribute, descending in reversed(orders):  # stable sorts, last key first
        ordered.sort(key=lambda doc, a=attribute: _sort_key(doc.get(a)), reverse=descending)
    rank = {doc["$id"]: i for i, doc in enumerate(ordered)}

    matching = [doc for doc in ordered if all(_matches(doc, q) for q in filters)]
    if search:
        text_of = search_text or (lambda doc: " ".join(str(v) for v in doc.values() if isinstance(v, str)))
        matching = [doc for doc in matching if fulltext_match(text_of(doc), search)]
    count = len(matching)

    window = matching
    if cursor is not None:
        direction, cursor_id = cursor
        if cursor_id not in rank:
            raise AppwriteError(400, "general_cursor_not_found", "The cursor is invalid. Cursor not found.")
        position = rank[cursor_id]
        if direction == "cursorAfter":
            window = [doc for doc in matching if rank[doc["$id"]] > position]
        else:
            before = [doc for doc in matching if rank[doc["$id"]] < position]
            window = before[max(0, len(before) - offset - limit): max(0, len(before) - offset)]
            return {"total": count if _wants_total(total) else 0, key: window}
    window = window[offset: offset + limit]
    return {"total": count if _wants_total(total) else 0, key: window}


def _wants_total(total: Any) -> bool:
    return not (total is False or (isinstance(total, str) and total.lower() == "false"))


