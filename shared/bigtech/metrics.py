"""Counters that survive stateless functions: rows of the core ``metrics`` table, one per
(name, labels, minute), moved only by Appwrite's atomic increment (never read-then-write).

``record`` adds to a counter: one ``increment_row_column`` call, or on the first use in a minute a
create (a concurrent first use loses the create with 409 and increments instead). ``totals`` sums the
buckets of the last ``window`` for the metrics function. Recording is best effort: a metrics failure
never fails the request it describes (it is logged by the caller).

Latency is a histogram: each execution increments the one bucket its duration falls in
(``execution_duration_bucket`` with ``le`` = the bucket's upper bound) and ``execution_duration_ms_sum``;
the exporter makes the buckets cumulative, as Prometheus expects, and derives the count.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .schema_constants import CORE_DATABASE_ID

TABLE = "metrics"
GAUGE_MINUTE = "gauge"  # the one row of a gauge series (compaction never folds it: it is not a minute)
DEAD_LETTERS = "bigtech_dead_letters_total"  # relay: events given up on after the delivery limit
BACKUP_SUCCESS = "bigtech_backup_last_success_timestamp_seconds"  # ops: per database, set after each backup
DURATION_BUCKETS_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000)
PAGE = 1000


def minute_of(moment: datetime | None = None) -> str:
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def labels_json(labels: Mapping[str, Any]) -> str:
    return json.dumps({k: str(v) for k, v in labels.items()}, sort_keys=True, separators=(",", ":"))


def row_id(name: str, labels: str, minute: str) -> str:
    return "m" + hashlib.sha256(f"{name}|{labels}|{minute}".encode()).hexdigest()[:35]


def record(tables: TablesDB, name: str, labels: Mapping[str, Any], value: int = 1,
           moment: datetime | None = None) -> None:
    encoded, minute = labels_json(labels), minute_of(moment)
    target = row_id(name, encoded, minute)
    try:
        tables.increment_row_column(CORE_DATABASE_ID, TABLE, target, "value", value)
        return
    except AppwriteException as error:
        if error.code != 404:
            raise
    try:
        tables.create_row(CORE_DATABASE_ID, TABLE, target, {"name": name, "labels": encoded, "minute": minute,
                                                            "value": value})
    except AppwriteException as error:
        if error.code == 404:  # no core database or metrics table here (not provisioned): nothing to count in
            return
        if error.code != 409:  # someone created it first: add ours to theirs
            raise
        tables.increment_row_column(CORE_DATABASE_ID, TABLE, target, "value", value)


def set_gauge(tables: TablesDB, name: str, labels: Mapping[str, Any], value: int) -> None:
    """A gauge's current value (one upsert): e.g. when each database was last backed up."""
    encoded = labels_json(labels)
    tables.upsert_row(CORE_DATABASE_ID, TABLE, row_id(name, encoded, GAUGE_MINUTE),
                      {"name": name, "labels": encoded, "minute": GAUGE_MINUTE, "value": value})


def duration_bucket(duration_ms: float) -> str:
    for bound in DURATION_BUCKETS_MS:
        if duration_ms <= bound:
            return str(bound)
    return "+Inf"


def totals(tables: TablesDB, window: timedelta | None = None, now: datetime | None = None
           ) -> dict[tuple[str, str], int]:
    """(name, labels JSON) → the sum of its buckets (all time, or the last ``window``)."""
    filters = [Query.greater_than_equal("minute", minute_of((now or datetime.now(UTC)) - window))] if window else []
    sums: dict[tuple[str, str], int] = {}
    cursor: str | None = None
    while True:
        queries = [*filters, Query.limit(PAGE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        rows = tables.list_rows(CORE_DATABASE_ID, TABLE, queries, total=False).rows
        for row in rows:
            key = (str(row.data.get("name")), str(row.data.get("labels") or "{}"))
            sums[key] = sums.get(key, 0) + int(row.data.get("value") or 0)
        if len(rows) < PAGE:
            return sums
        cursor = rows[-1].id


TOTAL_MINUTE = "total"  # the bucket that holds everything compacted so far
COMPACT_BATCH = 40  # rows folded per transaction: ≤ 40 increments + 40 deletes, under Appwrite's 100


def compact(tables: TablesDB, older_than: timedelta = timedelta(hours=1), *, deadline: float | None = None,
            now: datetime | None = None) -> int:
    """Fold minute buckets older than ``older_than`` into each series' ``total`` row and delete them.

    Each batch is one transaction (increments of the totals + deletes of the folded rows), so the sums the
    exporter reads never change: counters stay monotonic while the table stays small.
    """
    import time

    from .uow import commit

    cutoff = minute_of((now or datetime.now(UTC)) - older_than)
    folded = 0
    while deadline is None or time.monotonic() < deadline:
        rows = tables.list_rows(CORE_DATABASE_ID, TABLE, [Query.less_than("minute", cutoff),
                                                          Query.not_equal("minute", TOTAL_MINUTE),
                                                          Query.limit(COMPACT_BATCH)], total=False).rows
        if not rows:
            break
        sums: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (str(row.data.get("name")), str(row.data.get("labels") or "{}"))
            sums[key] = sums.get(key, 0) + int(row.data.get("value") or 0)
        operations: list[dict[str, Any]] = []
        for (name, labels), value in sums.items():
            target = row_id(name, labels, TOTAL_MINUTE)
            try:  # the total row exists before the transaction increments it
                tables.create_row(CORE_DATABASE_ID, TABLE, target, {"name": name, "labels": labels,
                                                                    "minute": TOTAL_MINUTE, "value": 0})
            except AppwriteException as error:
                if error.code != 409:
                    raise
            operations.append({"action": "increment", "databaseId": CORE_DATABASE_ID, "tableId": TABLE,
                               "rowId": target, "data": {"column": "value", "value": value}})
        operations += [{"action": "delete", "databaseId": CORE_DATABASE_ID, "tableId": TABLE, "rowId": row.id}
                       for row in rows]
        commit(tables, operations)
        folded += len(rows)
        if len(rows) < COMPACT_BATCH:
            break
    return folded
