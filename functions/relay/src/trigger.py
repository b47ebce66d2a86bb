"""What started a relay run, and so which tenant's outbox it drains.

The outbox row-create event carries the row, whose ``$databaseId`` is ``tenant_<id>``; a schedule
covers every tenant; an operator's (or a test's) key-authenticated execution may name a tenant and
a time budget in its body ``{"tenant_id": "...", "budget": seconds}``.
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


def trigger_of(request: Any) -> Trigger:
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    kind = headers.get("x-appwrite-trigger") or "http"
    body = request.body_json if request.body_text else {}
    if not isinstance(body, dict):
        body = {}
    budget = body.get("budget") if kind == "http" else None
    return Trigger(kind, tenant_of(kind, body), float(budget) if isinstance(budget, int | float) else None)


def tenant_of(kind: str, body: dict[str, Any]) -> str | None:
    if kind == "event":
        database = str(body.get("$databaseId") or "")
        if database.startswith(TENANT_DB_PREFIX):
            return database[len(TENANT_DB_PREFIX):]
        return body.get("tenant_id") or None
    if kind == "http":
        return body.get("tenant_id") or None
    return None
