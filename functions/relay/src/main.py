"""relay: move outbox events to their subscribers (DESIGN §6, docs/events.md).

Triggers: the outbox row-create event (`databases.*.tables.outbox.rows.*.create` → that tenant's pending rows),
the one-minute schedule (every tenant), and, for operators and tests, a key-authenticated execution with an
optional body `{"tenant_id": "...", "budget": seconds}`. Each run logs one report line — published, delivered,
failed, dead-lettered — and answers 200, or 503 when it stopped early (broker or TablesDB unavailable; nothing is
lost: unconfirmed rows stay pending for the next run).
"""

from __future__ import annotations

from typing import Any

from bigtech.appwrite_access import key_client

from .run import run_relay

TENANT_DB_PREFIX = "tenant_"


def tenant_of(trigger: str, body: Any) -> str | None:
    """The tenant a run is for: the event's row lives in `tenant_<id>`; a schedule covers every tenant."""
    if not isinstance(body, dict):
        return None
    if trigger == "event":
        database = str(body.get("$databaseId") or "")
        if database.startswith(TENANT_DB_PREFIX):
            return database[len(TENANT_DB_PREFIX):]
        return body.get("tenant_id") or None
    if trigger == "http":
        return body.get("tenant_id") or None
    return None


def main(context: Any) -> Any:
    headers = {k.lower(): v for k, v in (context.req.headers or {}).items()}
    trigger = headers.get("x-appwrite-trigger") or "http"
    body = context.req.body_json if context.req.body_text else {}
    tenant_id = tenant_of(trigger, body)
    budget = body.get("budget") if trigger == "http" and isinstance(body, dict) else None
    report = run_relay(key_client(context), tenant_id, trigger, log=context.log,
                       budget=float(budget) if isinstance(budget, int | float) else None)
    context.log(f"{report.line()} trigger={trigger}")
    for message in report.errors:
        context.log(f"  {message}")
    result = {
        "ok": report.ok, "mode": report.mode, "tenant_id": report.tenant_id, "published": report.published,
        "unroutable": report.unroutable, "delivered": report.delivered, "duplicates": report.duplicates,
        "failed": report.failed, "dead_lettered": report.dead_lettered, "pending_left": report.pending_left,
        "elapsed": round(report.elapsed, 3),
        "publish_elapsed": round(report.publish_elapsed, 3), "error": report.error, "errors": report.errors,
    }
    if not report.ok:
        context.error(report.line())
    return context.res.json(result, 200 if report.ok else 503)
