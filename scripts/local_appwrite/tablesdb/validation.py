"""Row data checked against the table's columns, with Appwrite's ``row_invalid_structure`` errors.

``prepare_create`` returns every column's stored value (defaults applied, required checked);
``prepare_update`` only the columns given. Stored values are SQLite-ready: booleans as 0/1, arrays
as JSON text, datetimes normalized to UTC ``YYYY-MM-DDTHH:MM:SS.mmm+00:00`` so they sort as text.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from ..common import dumps
from ..errors import AppwriteError
from .schema import Column, TableMeta
from .serialize import string_size

SYSTEM_FIELDS = frozenset(
    {"$id", "$sequence", "$tableId", "$databaseId", "$collectionId", "$createdAt", "$updatedAt", "$permissions"}
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
FLOAT_LIMIT = 1.7976931348623157e308


def invalid(message: str) -> AppwriteError:
    return AppwriteError(400, "row_invalid_structure", f"Invalid document structure: {message}")


def check_data(data: Any) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise AppwriteError(400, "general_argument_invalid", 'Invalid `data` param: Value must be a valid object')
    return data


def prepare_create(meta: TableMeta, data: dict) -> dict[str, Any]:
    _reject_unknown(meta, data)
    values: dict[str, Any] = {}
    for key, column in meta.columns.items():
        value = data.get(key, column.default if key not in data else None)
        if value is None or (column.array and value == [] and column.required):
            if column.required:
                raise invalid(f'Missing required attribute "{key}"')
            values[key] = None
            continue
        values[key] = store_value(column, value)
    return values


def prepare_update(meta: TableMeta, data: dict) -> dict[str, Any]:
    _reject_unknown(meta, data)
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in SYSTEM_FIELDS:
            continue
        column = meta.columns[key]
        if value is None:
            if column.required:
                raise invalid(f'Missing required attribute "{key}"')
            values[key] = None
        else:
            values[key] = store_value(column, value)
    return values


def _reject_unknown(meta: TableMeta, data: dict) -> None:
    for key in data:
        if key not in meta.columns and key not in SYSTEM_FIELDS:
            raise invalid(f'Unknown attribute: "{key}"')


def store_value(column: Column, value: Any) -> Any:
    if column.array:
        if not isinstance(value, list):
            raise invalid(f'Attribute "{column.key}" must be an array')
        return dumps([_scalar(column, item) for item in value])
    if isinstance(value, list | dict):
        raise invalid(f'Attribute "{column.key}" has invalid type. Value must be a valid {_kind(column)}')
    scalar = _scalar(column, value)
    return int(scalar) if column.type == "boolean" else scalar


def _kind(column: Column) -> str:
    return {"integer": "integer", "double": "float", "boolean": "boolean", "datetime": "datetime"}.get(
        column.type, "string"
    )


def _scalar(column: Column, value: Any) -> Any:
    key, kind = column.key, column.type
    if value is None:
        raise invalid(f'Attribute "{key}" has invalid type. Value must be a valid {_kind(column)}')
    if kind == "boolean":
        if not isinstance(value, bool):
            raise invalid(f'Attribute "{key}" has invalid type. Value must be a valid boolean')
        return value
    if kind in {"integer", "double"}:
        return _number(column, value)
    if kind == "datetime":
        stored = normalize_datetime(value)
        if stored is None:
            raise invalid(
                f'Attribute "{key}" has invalid format. Value must be valid date between 0000-01-01 00:00:00 '
                "and 9999-12-31 23:59:59."
            )
        return stored
    return _string(column, value)


def _number(column: Column, value: Any) -> int | float:
    key = column.key
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if column.type == "integer" and not is_int:
        raise invalid(f'Attribute "{key}" has invalid type. Value must be a valid integer')
    if column.type == "double" and not (is_int or isinstance(value, float)):
        raise invalid(f'Attribute "{key}" has invalid type. Value must be a valid float')
    low, high = bounds(column)
    if not low <= value <= high:
        raise invalid(f'Attribute "{key}" has invalid format. Value must be a valid range between {low:,} and {high:,}')
    return float(value) if column.type == "double" else value


def bounds(column: Column) -> tuple[int | float, int | float]:
    low, high = column.spec.get("min"), column.spec.get("max")
    if column.type == "integer":
        return (INT_MIN if low is None else low), (INT_MAX if high is None else high)
    return (-FLOAT_LIMIT if low is None else low), (FLOAT_LIMIT if high is None else high)


def _string(column: Column, value: Any) -> str:
    key = column.key
    if not isinstance(value, str):
        raise invalid(f'Attribute "{key}" has invalid type. Value must be a valid string')
    size = string_size(column)
    if size is not None and len(value) > size:
        raise invalid(
            f'Attribute "{key}" has invalid type. Value must be a valid string and no longer than {size} chars'
        )
    if column.format == "email" and not _EMAIL.match(value):
        raise invalid(f'Attribute "{key}" has invalid format. Value must be a valid email address')
    if column.format == "url" and not is_url(value):
        raise invalid(f'Attribute "{key}" has invalid format. Value must be a valid URL')
    if column.format == "ip" and not is_ip(value):
        raise invalid(f'Attribute "{key}" has invalid format. Value must be a valid IP address')
    if column.format == "enum" and value not in column.spec.get("elements", []):
        elements = ", ".join(column.spec.get("elements", []))
        raise invalid(f'Attribute "{key}" has invalid format. Value must be one of ({elements})')
    return value


def is_url(value: str) -> bool:
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and " " not in value


def is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def normalize_datetime(value: Any) -> str | None:
    """ISO 8601 (``Z``, offsets, date only) → UTC with milliseconds; None when unparseable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace(" ", "T", 1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")
