"""Small helpers every service uses: ids, timestamps, JSON columns."""

from __future__ import annotations

import json
import math
import os
import re
from datetime import UTC, datetime
from typing import Any

from .errors import AppwriteError

_ID_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$")


def now_iso() -> str:
    """Appwrite's timestamp format: ``2026-11-29T07:31:10.123+00:00``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def unique_id() -> str:
    """The same shape as the SDK's ``ID.unique()``: hex timestamp plus random padding."""
    now = datetime.now()
    base = f"{int(now.timestamp()):08x}{now.microsecond % 1000:05x}"
    return base + os.urandom(math.ceil(7 / 2)).hex()[:7]


def resolve_id(requested: Any, what: str = "ID") -> str:
    """Turn a client-chosen id (or ``unique()``) into a valid id, or raise 400."""
    if requested in (None, "", "unique()"):
        return unique_id()
    if not isinstance(requested, str) or not _ID_PATTERN.match(requested):
        raise AppwriteError(
            400,
            "general_argument_invalid",
            f"Invalid {what}: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, "
            "period, hyphen, and underscore. Can't start with a special char",
        )
    return requested


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def loads(text: str | None, default: Any = None) -> Any:
    return default if text in (None, "") else json.loads(text)


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes"}


def page(items: list[dict], total: int, key: str) -> dict:
    """Appwrite's list envelope: ``{"total": n, "<key>": [...]}``."""
    return {"total": total, key: items}
