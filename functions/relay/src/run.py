"""One relay run, wired to Appwrite: TablesDB-backed outbox and delivery stores, subscribers reached through
executions of their `/events` route, RabbitMQ (or direct mode) from the environment.

Which rows a run visits (docs/events.md): an event run, the row it was fired for — claimed from the event's
body with one bounded increment, marked published with one call, nothing else read or counted; the schedule,
the tenants the core pending markers name (one read when nothing is pending: its cost follows events, not
tenants); an operator's run, one tenant or every tenant. A sweep (schedule or operator) then deletes the markers
it read whose rows are no longer pending — the event runs' included, which leave their markers to it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech import metrics
from bigtech.bus import BusConfig, Relay, RelayReport, Subscriber, execution_deliverer
from bigtech.bus.appwrite_claims import CLAIM_CHUNK, EVENT_GRACE_SECONDS, TablesOutboxStore
from bigtech.bus.appwrite_deliveries import TablesDeliveryStore
from bigtech.bus.appwrite_rows import unavailable
from bigtech.bus.errors import BusError
from bigtech.bus.pending import PendingMarkers

from .registry import subscriber_patterns, tenant_ids

BUDGET_ENV = "BIGTECH_RELAY_BUDGET"  # seconds a run may spend publishing + delivering
# A run triggered by one outbox row has a tenant and little to do; the schedule sweeps every tenant.
DEFAULT_BUDGET = {"event": 15.0, "schedule": 40.0, "http": 40.0}
CONCURRENCY_ENV = "BIGTECH_RELAY_CONCURRENCY"  # subscriber executions in flight at once
DEFAULT_CONCURRENCY = 4
LEASE_SECONDS = 90.0  # longer than any run (timeout 60 s): a lease only expires when its relay died
# How long a row an event run claimed (no lease) is left to it before a sweep may take it: longer than any run.
EVENT_GRACE_ENV = "BIGTECH_RELAY_EVENT_GRACE"


def event_grace() -> float:
    """Keep it above the relay's timeout (60 s): a shorter grace would let a sweep take a live event run's row."""
    try:
        return float(os.environ.get(EVENT_GRACE_ENV, "").strip() or EVENT_GRACE_SECONDS)
    except ValueError:
        return EVENT_GRACE_SECONDS


def budget_for(trigger: str) -> float:
    configured = os.environ.get(BUDGET_ENV, "").strip()
    return float(configured) if configured else DEFAULT_BUDGET.get(trigger, 40.0)


def build_relay(client: Client, config: BusConfig, log: Callable[[str], Any] | None = None, *,
                tenants: list[str] | None = None, only_ids: list[str] | None = None,
                markers: PendingMarkers | None = None, fired_row: dict[str, Any] | None = None
                ) -> tuple[Relay, TablesOutboxStore]:
    """The relay and its outbox store. ``tenants``: the tenants a run over "all" visits (default: every
    tenant of the core ``tenants`` table, read only if needed); ``only_ids``: claim only these rows;
    ``fired_row``: the row an event carried, claimed alone (see ``TablesOutboxStore``)."""
    tables = TablesDB(client)
    functions = Functions(client)
    cached: list[list[str]] = [tenants] if tenants is not None else []

    def every_tenant() -> list[str]:  # read once per run, only if a run over all tenants needs it
        if not cached:
            try:
                cached.append(tenant_ids(tables))
            except AppwriteException as error:
                raise unavailable("listing tenants", error) from error
        return cached[0]

    subscribers = [
        Subscriber(function_id, patterns, execution_deliverer(functions, function_id))
        for function_id, patterns in subscriber_patterns(tables, functions, log).items()
    ]
    store = TablesOutboxStore(tables, every_tenant, only_ids=only_ids or (), markers=markers or PendingMarkers(tables),
                              fired=fired_row, event_grace=event_grace())
    relay = Relay(
        store,
        subscribers,
        config.url,
        topology=config.topology,
        deliveries=TablesDeliveryStore(tables, lambda: tenant_ids(tables)),  # dead letters: ops over every tenant
        batch_size=2 * CLAIM_CHUNK,  # whole claim transactions
        lease_seconds=LEASE_SECONDS,
        concurrency=int(os.environ.get(CONCURRENCY_ENV, "").strip() or DEFAULT_CONCURRENCY),
    )
    return relay, store


def count_dead_letters(tables: TablesDB, report: RelayReport) -> None:
    """``bigtech_dead_letters_total{kind="delivery"}`` for the metrics function: one increment, only when this
    run dead-lettered something; best effort (a metrics failure is a note, never a failed run)."""
    if not report.dead_lettered:
        return
    try:
        metrics.record(tables, metrics.DEAD_LETTERS, {"kind": "delivery"}, report.dead_lettered)
    except AppwriteException as error:
        report.note(f"metrics: dead letters not counted: {error}")


def run_relay(client: Client, tenant_id: str | None, trigger: str, log: Callable[[str], Any] | None = None,
              budget: float | None = None, event_id: str | None = None,
              fired_row: dict[str, Any] | None = None) -> RelayReport:
    config = BusConfig.from_env()
    markers = PendingMarkers(TablesDB(client))
    tenants: list[str] | None = None
    fired = fired_row if tenant_id and event_id and fired_row and fired_row.get("$id") == event_id else None
    if tenant_id is None:  # a sweep: read the markers first, so only what they name now is cleared after
        try:
            marked = markers.load()
        except BusError as error:
            report = RelayReport(mode=config.mode, tenant_id=None)
            report.error = str(error)
            return report
        if trigger == "schedule":
            tenants = sorted(marked)
            if not tenants and not config.url:  # direct mode, nothing pending anywhere: done in one read
                return RelayReport(mode=config.mode, tenant_id=None, pending_left=0)
    try:
        relay, store = build_relay(client, config, log, tenants=tenants, only_ids=[event_id] if event_id else None,
                                   markers=markers, fired_row=fired)
    except AppwriteException as error:  # the subscriber registry could not be read: nothing was touched
        report = RelayReport(mode=config.mode, tenant_id=tenant_id)
        report.error = str(unavailable("reading the subscriber registry", error))
        return report
    # An event run counts nothing and leaves its row's marker to the next sweep (its cost stays per event).
    report = relay.run(tenant_id, budget if budget is not None else budget_for(trigger), count_pending=fired is None)
    count_dead_letters(TablesDB(client), report)
    if fired is not None:
        return report
    try:
        markers.settle(store.settled, store.pending_by_tenant, store.still_pending)
    except BusError as error:  # the markers stay: the next schedule visits those tenants once more
        report.note(f"pending markers not cleared: {error}")
    return report
