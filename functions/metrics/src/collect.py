"""The metric families Prometheus scrapes, built from the core ``metrics`` counters and the backup store.

- ``bigtech_executions_total{function,route,method,status}`` — counter (Σ of the latency buckets);
- ``bigtech_execution_duration_ms{function,route,method,status}`` — histogram (cumulative buckets, sum);
- ``bigtech_backup_age_seconds{database}`` — gauge, age of each database's newest backup (when the
  backup store is configured); ``bigtech_backup_store_configured`` — 1 or 0;
- ``bigtech_outbox_pending``, ``bigtech_relay_lag_seconds`` (age of the oldest pending event),
  ``bigtech_dead_letters{kind="outbox|delivery"}``, ``bigtech_webhook_delivery_failures`` — gauges
  summed over tenants, read at scrape time (a few counting queries per tenant).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from bigtech import metrics
from bigtech.credits.reaper import tenant_ids
from bigtech.http.observe import METRIC_DURATION
from bigtech.ops.backup import list_backups, parse_backup_time
from bigtech.ops.store import BackupStore, BackupStoreMissing
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.schema.tenant import tenant_database_id

LABELS = ("function", "route", "method", "status")
MAX_BACKUP_DATABASES = 200  # one S3 listing each; beyond this the oldest-first alert is enough


class Collector:
    def __init__(self, tables: TablesDB) -> None:
        self.tables = tables

    def collect(self) -> Iterator[Any]:
        yield from self._executions()
        yield from self._backups()
        yield from self._bus()

    def _count(self, database_id: str, table_id: str, *queries: str) -> tuple[int, Any]:
        try:
            page = self.tables.list_rows(database_id, table_id, [*queries, Query.limit(1)], total=True)
        except AppwriteException as error:
            if error.code == 404:
                return 0, None
            raise
        return int(page.total), (page.rows[0] if page.rows else None)

    def _bus(self) -> Iterator[Any]:
        now = datetime.now(UTC)
        pending_total, oldest, dead_outbox, dead_deliveries, webhook_failures = 0, 0.0, 0, 0, 0
        for tenant_id in tenant_ids(self.tables)[:MAX_BACKUP_DATABASES]:
            database_id = tenant_database_id(tenant_id)
            pending, first = self._count(database_id, "outbox", Query.equal("status", "pending"),
                                         Query.order_asc("occurred_at"))
            pending_total += pending
            if first is not None and first.data.get("occurred_at"):
                occurred = datetime.fromisoformat(str(first.data["occurred_at"]).replace("Z", "+00:00"))
                oldest = max(oldest, (now - occurred).total_seconds())
            dead_outbox += self._count(database_id, "outbox", Query.equal("status", "dead"))[0]
            dead_deliveries += self._count(database_id, "deliveries", Query.equal("status", "dead"))[0]
            webhook_failures += self._count(database_id, "webhook_deliveries", Query.is_not_null("error"))[0]
        pending_family = GaugeMetricFamily("bigtech_outbox_pending", "Outbox events not yet published")
        pending_family.add_metric([], pending_total)
        lag = GaugeMetricFamily("bigtech_relay_lag_seconds", "Age of the oldest pending outbox event")
        lag.add_metric([], oldest)
        dead = GaugeMetricFamily("bigtech_dead_letters", "Dead-lettered events", labels=["kind"])
        dead.add_metric(["outbox"], dead_outbox)
        dead.add_metric(["delivery"], dead_deliveries)
        failures = GaugeMetricFamily("bigtech_webhook_delivery_failures", "Failed outgoing webhook attempts")
        failures.add_metric([], webhook_failures)
        yield from (pending_family, lag, dead, failures)

    def _executions(self) -> Iterator[Any]:
        sums = metrics.totals(self.tables)
        buckets: dict[tuple[str, ...], dict[str, int]] = {}
        durations: dict[tuple[str, ...], int] = {}
        for (name, encoded), value in sums.items():
            labels = json.loads(encoded)
            key = tuple(labels.get(label, "") for label in LABELS)
            if name == METRIC_DURATION + "_bucket":
                slot = buckets.setdefault(key, {})
                slot[labels.get("le", "+Inf")] = slot.get(labels.get("le", "+Inf"), 0) + value
            elif name == METRIC_DURATION + "_sum":
                durations[key] = durations.get(key, 0) + value
        executions = CounterMetricFamily("bigtech_executions", "Function executions", labels=LABELS)
        latency = HistogramMetricFamily("bigtech_execution_duration_ms", "Execution duration (ms)", labels=LABELS)
        bounds = [*map(str, metrics.DURATION_BUCKETS_MS), "+Inf"]
        for key, slot in sorted(buckets.items()):
            running, cumulative = 0, []
            for bound in bounds:
                running += slot.get(bound, 0)
                cumulative.append((bound, running))
            executions.add_metric(list(key), running)
            latency.add_metric(list(key), cumulative, durations.get(key, 0))
        yield executions
        yield latency

    def _backups(self) -> Iterator[Any]:
        configured = GaugeMetricFamily("bigtech_backup_store_configured", "1 when BIGTECH_BACKUP_BUCKET is set")
        try:
            store = BackupStore.from_env()
        except BackupStoreMissing:
            configured.add_metric([], 0)
            yield configured
            return
        configured.add_metric([], 1)
        yield configured
        age = GaugeMetricFamily("bigtech_backup_age_seconds", "Age of the newest backup", labels=["database"])
        now = datetime.now(UTC)
        databases = [CORE_DATABASE_ID, *(tenant_database_id(t) for t in tenant_ids(self.tables))]
        for database_id in databases[:MAX_BACKUP_DATABASES]:
            backups = list_backups(store, database_id)
            # never backed up: as old as it gets, so the BackupTooOld alert fires
            seconds = (now - parse_backup_time(backups[-1])).total_seconds() if backups else 1e9
            age.add_metric([database_id], seconds)
        yield age
