"""Small, forgiving converters fonte plugins use to turn provider fields into query shapes.

Providers mix ``DD/MM/YYYY`` and ISO dates, ``"R$ 1.234,56"`` and numbers, empty strings and nulls;
every converter returns ``None`` for anything it cannot read instead of raising, because one odd
field must not sink an otherwise good (and already paid) answer.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})")
_YMD = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def text(value: Any) -> str | None:
    """Stripped string, ``None`` for empty/null/non-scalar values."""
    if value is None or isinstance(value, dict | list):
        return None
    result = str(value).strip()
    return result or None


def upper(value: Any) -> str | None:
    result = text(value)
    return result.upper() if result else None


def iso_date(value: Any) -> str | None:
    """``31/01/2020``, ``2020-01-31`` or ``2020-01-31T10:00:00-03:00`` → ``2020-01-31``."""
    raw = text(value)
    if not raw:
        return None
    match = _DMY.match(raw)
    parts = (match.group(3), match.group(2), match.group(1)) if match else None
    if parts is None:
        match = _YMD.match(raw)
        parts = (match.group(1), match.group(2), match.group(3)) if match else None
    if parts is None:
        return None
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])).isoformat()
    except ValueError:
        return None


def money(value: Any) -> float | None:
    """``"R$ 1.234,56"``, ``"1234.56"``, ``1234.56`` → ``1234.56``; ``None`` if unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return round(float(value), 2)
    raw = re.sub(r"[^0-9,.\-]", "", str(value))
    if not raw:
        return None
    if "," in raw:  # Brazilian format: dots group thousands, the comma is the decimal point
        raw = raw.replace(".", "").replace(",", ".")
    try:
        return round(float(Decimal(raw)), 2)
    except (InvalidOperation, ValueError):
        return None


def integer(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    digits = re.sub(r"\D", "", str(value))
    return int(digits) if digits else None


def digits(value: Any) -> str | None:
    raw = re.sub(r"\D", "", str(value)) if value is not None else ""
    return raw or None


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = (text(value) or "").lower()
    if raw in ("sim", "s", "true", "1", "yes"):
        return True
    if raw in ("nao", "não", "n", "false", "0", "no"):
        return False
    return None


def uf(value: Any) -> str | None:
    raw = upper(value)
    return raw if raw and re.fullmatch(r"[A-Z]{2}", raw) else None


def cep(value: Any) -> str | None:
    raw = digits(value)
    return raw if raw and len(raw) == 8 else None


__all__ = ["boolean", "cep", "digits", "integer", "iso_date", "money", "text", "uf", "upper"]
