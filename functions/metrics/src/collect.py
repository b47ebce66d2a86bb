"""The metric families Prometheus scrapes, built from the core database in a few calls per scrape.

Every family comes from three reads, whatever the number of tenants:

1. the core ``metrics`` counters (``bigtech.metrics.totals``: one call per 1,000 rows; compaction keeps
   it to about one row per series) — executions and latency per function and route; the business
   counters the ``ops`` function adds from the bus events (consultas by category and status, credits
   sold/spent/granted, payments by gateway and outcome); payment-webhook refusals and failures (the
   ``pagamento-*`` executions of ``/webhook/{tenant_id}`` that answered 4xx/5xx); outgoing webhook
   deliveries by outcome (funcional-webhooks); dead letters (the relay); each database's last
   successful backup (a gauge the backup run sets);
2. the oldest pending-outbox marker in core ``outbox_pending`` (one call, with the total): the relay lag;
3. the tenant list (one call per 100 tenants), so a tenant never backed up reads as 1e9 seconds old.

``bigtech_scrape_appwrite_calls`` reports what the scrape cost.
"""

from __future__ import annotations

import json
import os
import time
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
from bigtech.schema.core import CORE_DATABASE_ID, OUTBOX_PENDING_TABLE
from bigtech.schema.tenant import tenant_database_id

LABELS = ("function", "route", "method", "status")
NEVER = 1e9  # the age of a backup that never happened: any BackupTooOld alert fires
# counters added elsewhere (name without Prometheus' "_total" → help, labels)
BUSINESS: dict[str, tuple[str, tuple[str, ...]]] = {
    "bigtech_consultas": ("Consultas by category and final status (from consulta.* events)", ("category", "status")),
    "bigtech_credits": ("Credits sold, spent on consultas and granted (from events)", ("kind",)),
    "bigtech_payments": ("Payment outcomes by gateway (from payment.* events)", ("gateway", "outcome")),
    "bigtech_webhook_deliveries": ("Outgoing webhook delivery attempts by outcome (funcional-webhooks)",
                                   ("outcome",)),
    "bigtech_dead_letters": ("Events dead-lettered by the relay after the delivery limit", ("kind",)),
}


class CountingTables:
    """The TablesDB the collector reads through, counting the Appwrite calls it makes."""

    def __init__(self, tables: TablesDB) -> None:
        self._tables = tables
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tables, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return method(*args, **kwargs)

        return counted


class Collector:
    def __init__(self, tables: TablesDB) -> None:
        self.tables = CountingTables(tables)

    def collect(self) -> Iterator[Any]:
        sums = self._sums()
        yield from self._executions(sums)
        yield from self._business(sums)
        yield from self._payment_webhooks(sums)
        yield from self._backups(sums)
        yield from self._relay()
        calls = GaugeMetricFamily("bigtech_scrape_appwrite_calls", "Appwrite calls this scrape made")
        calls.add_metric([], self.tables.calls)
        yield calls

    def _sums(self) -> dict[tuple[str, str], int]:
        return metrics.totals(self.tables)  # type: ignore[arg-type]

    @staticmethod
    def _series(sums: dict[tuple[str, str], int], name: str) -> Iterator[tuple[dict[str, str], int]]:
        for (found, encoded), value in sums.items():
            if found == name:
                yield json.loads(encoded), value

    def _executions(self, sums: dict[tuple[str, str], int]) -> Iterator[Any]:
        buckets: dict[tuple[str, ...], dict[str, int]] = {}
        durations: dict[tuple[str, ...], int] = {}
        for labels, value in self._series(sums, METRIC_DURATION + "_bucket"):
            slot = buckets.setdefault(tuple(labels.get(label, "") for label in LABELS), {})
            slot[labels.get("le", "+Inf")] = slot.get(labels.get("le", "+Inf"), 0) + value
        for labels, value in self._series(sums, METRIC_DURATION + "_sum"):
            key = tuple(labels.get(label, "") for label in LABELS)
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

    def _business(self, sums: dict[tuple[str, str], int]) -> Iterator[Any]:
        for name, (help_text, labels) in BUSINESS.items():
            family = CounterMetricFamily(name, help_text, labels=list(labels))
            merged: dict[tuple[str, ...], int] = {}
            for found, value in self._series(sums, name + "_total"):
                key = tuple(found.get(label, "") for label in labels)
                merged[key] = merged.get(key, 0) + value
            for key, value in sorted(merged.items()):
                family.add_metric(list(key), value)
            yield family

    def _payment_webhooks(self, sums: dict[tuple[str, str], int]) -> Iterator[Any]:
        """Gateway webhooks refused (4xx: bad signature, unknown order…) or failed (5xx), per gateway and status."""
        family = CounterMetricFamily("bigtech_payment_webhook_failures",
                                     "Payment webhooks answered 4xx (refused) or 5xx (failed)",
                                     labels=["gateway", "status"])
        merged: dict[tuple[str, str], int] = {}
        for labels, value in self._series(sums, METRIC_DURATION + "_bucket"):
            function, status = labels.get("function", ""), labels.get("status", "")
            if function.startswith("pagamento-") and labels.get("route", "").startswith("/webhook") \
                    and status[:1] in ("4", "5"):
                key = (function.removeprefix("pagamento-"), status)
                merged[key] = merged.get(key, 0) + value
        for key, value in sorted(merged.items()):
            family.add_metric(list(key), value)
        yield family

    def _backups(self, sums: dict[tuple[str, str], int]) -> Iterator[Any]:
        configured = GaugeMetricFamily("bigtech_backup_store_configured", "1 when BIGTECH_BACKUP_BUCKET is set")
        configured.add_metric([], 1 if os.environ.get("BIGTECH_BACKUP_BUCKET") else 0)
        yield configured
        last = {labels.get("database", ""): value for labels, value in self._series(sums, metrics.BACKUP_SUCCESS)}
        databases = [CORE_DATABASE_ID, *(tenant_database_id(t) for t in tenant_ids(self.tables))]  # type: ignore[arg-type]
        age = GaugeMetricFamily("bigtech_backup_age_seconds", "Seconds since the last successful backup",
                                labels=["database"])
        now = time.time()
        for database_id in sorted({*databases, *last}):
            age.add_metric([database_id], max(0.0, now - last[database_id]) if database_id in last else NEVER)
        yield age

    def _relay(self) -> Iterator[Any]:
        """Pending events and the relay lag from the core markers (one call), not from every tenant's outbox."""
        try:
            page = self.tables.list_rows(CORE_DATABASE_ID, OUTBOX_PENDING_TABLE,
                                         [Query.order_asc("$createdAt"), Query.limit(1)], total=True)
            pending, oldest = page.total, (page.rows[0].createdat if page.rows else None)
        except AppwriteException as error:
            if error.code != 404:
                raise
            pending, oldest = 0, None
        lag = 0.0
        if oldest:
            lag = max(0.0, (datetime.now(UTC) - datetime.fromisoformat(oldest.replace("Z", "+00:00"))).total_seconds())
        pending_family = GaugeMetricFamily("bigtech_outbox_pending", "Outbox events not yet published (markers)")
        pending_family.add_metric([], pending)
        lag_family = GaugeMetricFamily("bigtech_relay_lag_seconds", "Age of the oldest pending outbox event")
        lag_family.add_metric([], lag)
        yield pending_family
        yield lag_family
