"""One relay run, wired to Appwrite: TablesDB-backed outbox and delivery stores, subscribers reached through
executions of their `/events` route, RabbitMQ (or direct mode) from the environment."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.bus import BusConfig, Relay, RelayReport, Subscriber, execution_deliverer
from bigtech.bus.appwrite_deliveries import TablesDeliveryStore
from bigtech.bus.appwrite_outbox import TablesOutboxStore
from bigtech.bus.appwrite_rows import unavailable

from .registry import subscriber_patterns, tenant_ids

BUDGET_ENV = "BIGTECH_RELAY_BUDGET"  # seconds a run may spend publishing + delivering
# A run triggered by one outbox row has a tenant and little to do; the schedule sweeps every tenant.
DEFAULT_BUDGET = {"event": 15.0, "schedule": 40.0, "http": 40.0}
CONCURRENCY_ENV = "BIGTECH_RELAY_CONCURRENCY"  # subscriber executions in flight at once
DEFAULT_CONCURRENCY = 4
LEASE_SECONDS = 90.0  # longer than any run (timeout 60 s): a lease only expires when its relay died


def budget_for(trigger: str) -> float:
    configured = os.environ.get(BUDGET_ENV, "").strip()
    return float(configured) if configured else DEFAULT_BUDGET.get(trigger, 40.0)


def build_relay(client: Client, config: BusConfig, log: Callable[[str], Any] | None = None) -> Relay:
    tables = TablesDB(client)
    functions = Functions(client)
    cached: list[list[str]] = []

    def tenants() -> list[str]:  # read once per run, only if a run over all tenants needs it
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
    return Relay(
        TablesOutboxStore(tables, tenants),
        subscribers,
        config.url,
        topology=config.topology,
        deliveries=TablesDeliveryStore(tables, tenants),
        batch_size=200,
        lease_seconds=LEASE_SECONDS,
        concurrency=int(os.environ.get(CONCURRENCY_ENV, "").strip() or DEFAULT_CONCURRENCY),
    )


def run_relay(client: Client, tenant_id: str | None, trigger: str, log: Callable[[str], Any] | None = None,
              budget: float | None = None) -> RelayReport:
    config = BusConfig.from_env()
    try:
        relay = build_relay(client, config, log)
    except AppwriteException as error:  # the subscriber registry could not be read: nothing was touched
        report = RelayReport(mode=config.mode, tenant_id=tenant_id)
        report.error = str(unavailable("reading the subscriber registry", error))
        return report
    return relay.run(tenant_id, budget if budget is not None else budget_for(trigger))
