"""Event-type filters of an endpoint: exact types (``order.created``), a family (``consulta.*``) or ``*``."""

from __future__ import annotations

import re
from collections.abc import Iterable

FAMILIES = ("consulta", "order", "payment", "credits", "member", "plugin", "apikey")
FILTER_PATTERN = re.compile(r"^(\*|[a-z]+\.(\*|[a-z_]+))$")
MAX_FILTERS = 50


def filter_problem(value: str) -> str | None:
    if not isinstance(value, str) or not FILTER_PATTERN.match(value):
        return "an event type (consulta.completed), a family wildcard (consulta.*) or *"
    family = value.split(".", 1)[0]
    if value != "*" and family not in FAMILIES:
        return f"unknown event family {family!r} (one of {', '.join(FAMILIES)})"
    return None


def matches(filters: Iterable[str], event_type: str) -> bool:
    for pattern in filters:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]) and "." not in event_type[len(pattern) - 1:]:
            return True
    return False
