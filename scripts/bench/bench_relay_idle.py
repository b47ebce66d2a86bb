"""The relay's schedule with idle tenants: API calls and seconds, against a sweep over every tenant.

``invoke bench --only relay_idle``. A private stack (direct mode) with ``TENANTS`` tenants, each with its
outbox, none with pending rows. The schedule reads the core ``outbox_pending`` markers and stops there
(docs/events.md); an operator's sweep over every tenant (``POST`` with no ``tenant_id``) is what every
schedule run used to cost. Then one tenant gets events, and the schedule visits that tenant only.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import httpx
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.outbox_writer import new_event, outbox_row, pending_marker
from bigtech.schema import provision, provision_core
from bigtech.schema.core import CORE_DATABASE_ID, OUTBOX_PENDING_TABLE
from bigtech.schema.model import DatabaseSchema
from bigtech.schema.tenant import DELIVERIES, OUTBOX, PROCESSED_EVENTS, tenant_database_id

from .support import client_for, private_stack

TENANTS = int(os.environ.get("BENCH_RELAY_TENANTS", "200"))
BUS_TABLES = DatabaseSchema((OUTBOX, PROCESSED_EVENTS, DELIVERIES))


class RelayCalls:
    """API calls made with the relay's ephemeral key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0

    def observe(self, request: Any, route: Any, response: Any) -> None:
        caller = getattr(request, "caller", None)
        if caller is not None and caller.kind == "ephemeral" and caller.function_id == "relay":
            with self.lock:
                self.count += 1

    def take(self) -> int:
        with self.lock:
            count, self.count = self.count, 0
        return count


def schedule(stack: Any) -> dict[str, Any]:
    response = httpx.post(f"{stack.endpoint}/local/functions/relay/schedule", timeout=300, headers={
        "x-appwrite-project": stack.settings.project_id, "x-appwrite-key": stack.settings.api_key})
    response.raise_for_status()
    return json.loads(response.json()["responseBody"])


def sweep(stack: Any) -> dict[str, Any]:
    execution = Functions(client_for(stack)).create_execution("relay", body=json.dumps({"budget": 200}),
                                                              xasync=False, path="/", method=ExecutionMethod.POST)
    return json.loads(execution.responsebody)


def stage_without_events(tables: TablesDB, tenant: str, count: int) -> None:
    """Outbox rows and their markers in one transaction of bulk creates, which fire no row-create event
    (so no event-triggered relay run takes them before the schedule does)."""
    envelopes = [new_event("bench.ping", tenant, {"n": n}) for n in range(count)]
    transaction = tables.create_transaction(ttl=60)
    tables.create_operations(transaction.id, [
        {"action": "bulkCreate", "databaseId": tenant_database_id(tenant), "tableId": "outbox",
         "data": [{"$id": e.id, **outbox_row(e)} for e in envelopes]},
        {"action": "bulkCreate", "databaseId": CORE_DATABASE_ID, "tableId": OUTBOX_PENDING_TABLE,
         "data": [{"$id": e.id, **pending_marker(tenant)} for e in envelopes]},
    ])
    tables.update_transaction(transaction.id, commit=True)


def run(report) -> None:  # type: ignore[no-untyped-def]
    with private_stack(sync_timeout_seconds=300.0) as stack:
        tables = TablesDB(client_for(stack))
        provision_core(tables)
        started = time.perf_counter()
        tenant_ids = [f"idle-{n:04d}" for n in range(TENANTS)]
        for tenant in tenant_ids:
            provision(tables, tenant_database_id(tenant), tenant, BUS_TABLES)
            tables.create_row(CORE_DATABASE_ID, "tenants", tenant, {
                "name": tenant, "status": "active", "team_id": tenant, "database_id": tenant_database_id(tenant)})
        report.metric(f"setup: {TENANTS} tenants with an outbox", time.perf_counter() - started, "s")
        calls = RelayCalls()
        stack.dispatcher.observers.append(calls.observe)
        schedule(stack)  # warm the relay up (imports), then measure
        calls.take()

        started = time.perf_counter()
        result = schedule(stack)
        report.metric(f"idle schedule, {TENANTS} tenants: API calls", calls.take(), "calls")
        report.metric(f"idle schedule, {TENANTS} tenants: time", time.perf_counter() - started, "s")
        assert result["ok"] and result["published"] == 0, result

        started = time.perf_counter()
        sweep(stack)
        report.metric(f"sweep over every tenant ({TENANTS}): API calls", calls.take(), "calls")
        report.metric(f"sweep over every tenant ({TENANTS}): time", time.perf_counter() - started, "s")

        busy = tenant_ids[7]
        stage_without_events(tables, busy, 10)
        started = time.perf_counter()
        result = schedule(stack)
        report.metric("schedule with 10 events in 1 tenant: API calls", calls.take(), "calls")
        report.metric("schedule with 10 events in 1 tenant: time", time.perf_counter() - started, "s")
        report.metric("schedule with 10 events in 1 tenant: published", result["published"], "events")


if __name__ == "__main__":
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(root / "shared"), str(root / "scripts")]
    from bench.run import main

    raise SystemExit(main(["--only", "relay_idle"]))
