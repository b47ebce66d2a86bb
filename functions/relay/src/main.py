"""relay: move outbox events to their subscribers (docs/events.md#the-relay).

Triggers: the outbox row-create event (the row it was fired for, from the event's body), the one-minute
schedule (the tenants the core pending markers name), or a key-authenticated execution (``trigger.py``).
Each run logs one report line (published, delivered, failed, dead-lettered) and answers 200, or 503 when it
stopped early (broker or TablesDB unavailable; nothing is lost: unconfirmed rows stay pending for the next
run). The run is ``run.py``.
"""

from __future__ import annotations

from typing import Any

from bigtech.appwrite_access import key_client

from .run import run_relay
from .trigger import trigger_of


def main(context: Any) -> Any:
    trigger = trigger_of(context.req)
    report = run_relay(key_client(context), trigger.tenant_id, trigger.kind, log=context.log, budget=trigger.budget,
                       event_id=trigger.event_id, fired_row=trigger.row)
    context.log(f"{report.line()} trigger={trigger.kind}")
    for message in report.errors:
        context.log(f"  {message}")
    if not report.ok:
        context.error(report.line())
    return context.res.json(report.to_json(), 200 if report.ok else 503)
