"""What started a relay run, and so which tenant's outbox it drains.

The outbox row-create event carries the row, whose ``$databaseId`` is ``tenant_<id>`` and whose ``$id`` is
the event: that run handles that row. A schedule covers the tenants the core pending markers name; an
operator's (or a test's) key-authenticated execution sweeps every tenant, or the one named in its body
``{"tenant_id": "...", "budget": seconds}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TENANT_DB_PREFIX = "tenant_"


@dataclass(frozen=True)
class Trigger:
    kind: str  # "event" | "schedule" | "http"
    tenant_id: str | None
    budget: float | None
    event_id: str | None = None  # the outbox row an event run was fired for


def trigger_of(request: Any) -> Trigger:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    kind = headers.get("x-appwrite-trigger") or "http"
    body = request.body_json if request.body_text else {}
    if not isinstance(body, dict):
        body = {}
    budget = body.get("budget") if kind == "http" else None
    tenant_id = tenant_of(kind, body)
    event_id = str(body.get("$id") or "") or None if kind == "event" and tenant_id else None
    return Trigger(kind, tenant_id, float(budget) if isinstance(budget, int | float) else None, event_id)


def tenant_of(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "event":
        database = str(body.get("$databaseId") or "")
        if database.startswith(TENANT_DB_PREFIX):
            return database[len(TENANT_DB_PREFIX):]
        return body.get("tenant_id") or None
    if kind == "http":
        return body.get("tenant_id") or None
    return None
