"""Fan-out of an event to the tenant's endpoints, and the runs that work through due deliveries.

``enqueue`` (the relay's ``POST /events``) writes the message and one delivery per matching enabled
endpoint, then makes the immediate attempts inline within a small budget; whatever it did not reach
stays ``pending`` for the schedule. ``run_due`` (the one-minute schedule, and replays) attempts every
delivery whose ``next_at`` has come, within a time budget. Everything is in the tenant's rows, so a
restart loses nothing: the next run picks up where the last one stopped.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from appwrite.services.tables_db import TablesDB

from bigtech.payments.tenant_config import load_plugin_config

from . import filters, payload
from .delivery import Outcome, attempt
from .signing import PLUGIN_ID
from .store import Endpoint, Store, iso, parse_time

INLINE_BUDGET_SECONDS = 10.0  # the relay waits for POST /events: keep the inline attempts short
DEFAULT_TIMEOUT = 15


@dataclass
class RunReport:
    attempted: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    outcomes: list[Outcome] = field(default_factory=list)

    def add(self, outcome: Outcome | None) -> None:
        if outcome is None:
            self.skipped += 1
            return
        self.attempted += 1
        self.outcomes.append(outcome)
        if outcome.status == "succeeded":
            self.succeeded += 1
        else:
            self.failed += 1

    def to_json(self) -> dict[str, Any]:
        return {"attempted": self.attempted, "succeeded": self.succeeded, "failed": self.failed,
                "skipped": self.skipped}


def tenant_config(tables: TablesDB, tenant_id: str) -> dict[str, Any] | None:
    """The tenant's plugin config, ``None`` when the tenant has not enabled the plugin."""
    return load_plugin_config(tables, tenant_id, PLUGIN_ID)


def timeout_of(config: dict[str, Any]) -> float:
    return float(config.get("request_timeout_seconds") or DEFAULT_TIMEOUT)


def enqueue(tables: TablesDB, envelope: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    tenant_id, event_type, event_id = envelope["tenant_id"], envelope["type"], envelope["id"]
    store = Store(tables, tenant_id)
    targets = [e for e in store.endpoints() if e.enabled and filters.matches(e.events, event_type)]
    if not targets:
        return {"endpoints": 0}
    body = payload.body(event_type, envelope.get("occurred_at") or datetime.now(UTC).isoformat(),
                        envelope.get("data") or {})
    store.create_message(event_id, event_type, body, _occurred(envelope))
    now = datetime.now(UTC)
    ids = [store.create_delivery(endpoint.id, event_id, now) for endpoint in targets]
    report = attempt_now(store, ids, {e.id: e for e in targets}, config, trigger="event")
    return {"endpoints": len(targets), **report.to_json()}


def _occurred(envelope: dict[str, Any]) -> str:
    return iso(parse_time(envelope.get("occurred_at")) or datetime.now(UTC))


def attempt_now(store: Store, delivery_ids: list[str], endpoints: dict[str, Endpoint], config: dict[str, Any], *,
                trigger: str, budget: float = INLINE_BUDGET_SECONDS) -> RunReport:
    started, report, timeout = time.monotonic(), RunReport(), timeout_of(config)
    for row_id in delivery_ids:
        left = budget - (time.monotonic() - started)
        if left <= 1:
            break  # the rest waits for the schedule
        row = store.delivery(row_id)
        if row is None:
            continue
        endpoint = endpoints.get(row.data["endpoint_id"]) or store.endpoint(row.data["endpoint_id"])
        message = store.message(row.data["event_id"])
        report.add(attempt(store, row, endpoint, message, timeout=min(timeout, left), trigger=trigger))
    return report


def run_due(tables: TablesDB, tenant_id: str, config: dict[str, Any], *, budget: float,
            trigger: str = "schedule") -> RunReport:
    """Attempt the tenant's due deliveries, oldest first, until none is due or the budget is spent."""
    store, report, started = Store(tables, tenant_id), RunReport(), time.monotonic()
    endpoints = {e.id: e for e in store.endpoints()}
    messages: dict[str, Any] = {}
    seen: set[tuple[str, int]] = set()
    while time.monotonic() - started < budget:
        due = [row for row in store.due_deliveries(datetime.now(UTC))
               if (row.id, int(row.data.get("attempt") or 0)) not in seen]
        if not due:
            # a retry due within this run's budget (the 5 s step) is waited for rather than left a minute
            soonest = store.next_pending_at()
            wait = (soonest - datetime.now(UTC)).total_seconds() if soonest else None
            if wait is None or wait <= 0 or wait > budget - (time.monotonic() - started) - 2:
                break  # nothing more this run (what is due but skipped is leased by another worker)
            time.sleep(wait + 0.01)
            continue
        for row in due:
            left = budget - (time.monotonic() - started)
            if left <= 1:
                return report
            seen.add((row.id, int(row.data.get("attempt") or 0)))
            message_id = row.data["event_id"]
            if message_id not in messages:
                messages[message_id] = store.message(message_id)
            endpoint = endpoints.get(row.data["endpoint_id"])
            outcome = attempt(store, row, endpoint, messages[message_id],
                              timeout=min(timeout_of(config), left), trigger=trigger)
            report.add(outcome)
            if outcome is not None and outcome.endpoint_disabled:
                endpoints = {e.id: e for e in store.endpoints()}
    return report
