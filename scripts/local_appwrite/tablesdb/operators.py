"""DB operators in ``update_row`` data (Appwrite's "DB operators", SDK ``appwrite.operator.Operator``).

A column's value may be an operator instead of a value: the SDK sends it as the JSON string
``{"method": "increment", "values": [by, max]}`` (``decrement``: ``[by, min]``). Appwrite applies every
operator of one call atomically at the storage layer, so several counters of a row move in ONE call
without a read. The local stack serves the numeric ``increment`` and ``decrement`` on a direct
``update_row`` (each is ``store.increment`` inside the call's one write, so a bound violated by any
of them rolls the whole call back); other operators, and operators staged in a transaction or sent
to an upsert, answer 400 (docs/local-appwrite.md, "Deliberate divergences").
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import AppwriteError
from .schema import NUMERIC_TYPES, TableMeta

NUMERIC_OPERATORS = frozenset({"increment", "decrement"})
ALL_OPERATORS = NUMERIC_OPERATORS | frozenset({
    "multiply", "divide", "modulo", "power", "stringConcat", "stringReplace", "toggle", "dateAddDays",
    "dateSubDays", "dateSetNow", "arrayAppend", "arrayPrepend", "arrayInsert", "arrayRemove", "arrayUnique",
    "arrayIntersect", "arrayDiff", "arrayFilter",
})


def _parse(value: Any) -> dict | None:
    """The operator a value encodes, or None for a plain value."""
    if not isinstance(value, str) or not value.startswith("{"):
        return None
    try:
        decoded = json.loads(value)
    except ValueError:
        return None
    if isinstance(decoded, dict) and decoded.get("method") in ALL_OPERATORS:
        return decoded
    return None


def split(meta: TableMeta, data: dict) -> tuple[dict, dict[str, tuple[str, Any, Any]]]:
    """``data`` as (plain values, {column: (method, by, bound)}); unsupported operators answer 400."""
    plain: dict = {}
    operators: dict[str, tuple[str, Any, Any]] = {}
    for key, value in data.items():
        operator = _parse(value)
        column = meta.columns.get(key)
        if operator is None or column is None or column.type not in NUMERIC_TYPES:
            plain[key] = value  # validated as a value (a string in a numeric column is refused there)
            continue
        method, values = operator["method"], operator.get("values") or [1]
        if method not in NUMERIC_OPERATORS:
            raise AppwriteError(400, "general_argument_invalid",
                                f"Operator {method} is not served by the local stack (only increment, decrement).")
        if not isinstance(values, list) or not 1 <= len(values) <= 2:
            raise AppwriteError(400, "general_argument_invalid", f'Invalid operator for "{key}": values')
        operators[key] = (method, values[0], values[1] if len(values) == 2 else None)
    return plain, operators


def refuse(meta: TableMeta, data: Any, where: str) -> None:
    """Operators where the local stack does not apply them (staged writes, upserts): 400."""
    if isinstance(data, dict) and split(meta, data)[1]:
        raise AppwriteError(400, "general_argument_invalid", f"Operators in {where} are not served by the local stack.")
