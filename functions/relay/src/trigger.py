"""What started a relay run, and so which tenant's outbox it drains.

The outbox row-create event carries the row (Appwrite's payload is the row as created, for a single
``createRow`` and for a ``create`` in a committed transaction alike), whose ``$databaseId`` is ``tenant_<id>``
and whose ``$id`` is the event: that run handles that row, claiming it from the body without reading it.
A schedule covers the tenants the core pending markers name; an operator's (or a test's) key-authenticated
execution sweeps every tenant, or the one named in its body ``{"tenant_id": "...", "budget": seconds}``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from bigtech.errors import BigtechError
from bigtech.http.limits import parse_json

TENANT_DB_PREFIX = "tenant_"
# Any id Appwrite could hold (the relay only ever reads ``tenant_<id>``); anything else is ignored.
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,35}$")


@dataclass(frozen=True)
class Trigger:
    kind: str  # "event" | "schedule" | "http"
    tenant_id: str | None
    budget: float | None
    event_id: str | None = None  # the outbox row an event run was fired for
    row: dict[str, Any] | None = None  # that row, as the event carried it


def trigger_of(request: Any) -> Trigger:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    kind = headers.get("x-appwrite-trigger") or "http"
    body = _body(request)
    budget = body.get("budget") if kind == "http" else None
    tenant_id = tenant_of(kind, body)
    event_id = str(body.get("$id") or "") or None if kind == "event" and tenant_id else None
    return Trigger(kind, tenant_id, _budget(budget), event_id, body if event_id else None)


def _body(request: Any) -> dict[str, Any]:
    """The JSON body under the shared input limits; anything unusable counts as no body (a hostile or
    broken body must not crash the relay: at worst it runs as the schedule does)."""
    raw = getattr(request, "body_binary", None)
    if raw is None:
        raw = (getattr(request, "body_text", "") or "").encode("utf-8", "replace")
    raw = raw.encode("utf-8", "replace") if isinstance(raw, str) else bytes(raw)
    if not raw.strip():
        return {}
    try:
        body = parse_json(raw)
    except BigtechError:
        return {}
    return body if isinstance(body, dict) else {}


def _budget(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        budget = float(value)
    except OverflowError:
        return None
    return budget if math.isfinite(budget) and budget > 0 else None


def tenant_of(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "event":
        database = str(body.get("$databaseId") or "")
        if database.startswith(TENANT_DB_PREFIX):
            return database[len(TENANT_DB_PREFIX):]
        return _tenant_id(body.get("tenant_id"))
    if kind == "http":
        return _tenant_id(body.get("tenant_id"))
    return None


def _tenant_id(value: Any) -> str | None:
    return value if isinstance(value, str) and _ID.match(value) else None
