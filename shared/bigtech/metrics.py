"""Counters that survive stateless functions: rows of the core ``metrics`` table, one per
(name, labels, minute), moved only by Appwrite's atomic increment (never read-then-write).

``record`` adds to a counter: one ``increment_row_column`` call, or on the first use in a minute a
create (a concurrent first use loses the create with 409 and increments instead). ``totals`` sums the
buckets of the last ``window`` for the metrics function. Recording is best effort: a metrics failure
never fails the request it describes (it is logged by the caller).

Latency is a histogram recorded with ONE increment per execution (``record_duration``): the row of the
bucket its duration falls in (``<histogram>_packed`` with ``le`` = the bucket's upper bound) counts the
executions and sums their durations in one integer, ``value = Σ duration_ms · 2^COUNT_BITS + count``
(Appwrite's ``increment_row_column`` moves one column; packing keeps count and sum in the same atomic
add). ``totals`` and ``compact`` unpack each row (never a sum of rows: the count field is bounded per
row) into the plain ``<histogram>_bucket`` (count) and ``<histogram>_sum`` (ms) series, so the exporter
sees the same shape as before: rows of the old two-increment shape and compacted totals are plain
rows and add up with the unpacked ones (no migration). The exporter makes the buckets cumulative, as
Prometheus expects, and derives the count.

Bounds (per minute row, i.e. per function, route, method, status, bucket and minute): every stored
value stays below 2^53, so no JSON or double on the way can round it; the count field holds < 2^20
(1,048,576 executions of one route in one bucket in one minute, ~17,000/s), the sum field < 2^33 ms
(≈ 8.6e9 ms). A duration is clamped to ``MAX_DURATION_MS`` (Appwrite's longest function timeout,
900 s), so the sum field overflows only past 286,000 executions a minute in the 30 s bucket or 9,500
in ``+Inf`` (each over 30 s: at least 4,700 instances busy at once). Totals rows are plain counters
(64-bit), so compaction removes the per-row bound over time.
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
PACKED = "_packed"  # a histogram's one-row-per-bucket series: count and duration sum in one integer
COUNT_BITS = 20  # the count field of a packed value (see the bounds above)
MAX_DURATION_MS = 900_000  # Appwrite's longest function timeout: no execution lasts longer


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


def pack_duration(duration_ms: float) -> int:
    """One execution of ``duration_ms`` as a packed histogram increment: count 1, sum the clamped ms."""
    return (min(max(0, round(duration_ms)), MAX_DURATION_MS) << COUNT_BITS) + 1


def unpack(value: int) -> tuple[int, int]:
    """A packed row's (count, duration sum in ms)."""
    return value & ((1 << COUNT_BITS) - 1), value >> COUNT_BITS


def record_duration(tables: TablesDB, histogram: str, labels: Mapping[str, Any], duration_ms: float,
                    moment: datetime | None = None) -> None:
    """One observation of ``histogram``: one atomic increment of its bucket's packed row."""
    bucket = {**labels, "le": duration_bucket(duration_ms)}
    record(tables, histogram + PACKED, bucket, pack_duration(duration_ms), moment)


def _add(sums: dict[tuple[str, str], int], name: str, labels: str, value: int) -> None:
    """Add one row to the plain series it stands for (a packed row to its ``_bucket`` and ``_sum``)."""
    if name.endswith(PACKED):
        histogram, (count, total_ms) = name.removesuffix(PACKED), unpack(value)
        decoded = json.loads(labels)
        decoded.pop("le", None)
        _add(sums, histogram + "_bucket", labels, count)
        _add(sums, histogram + "_sum", labels_json(decoded), total_ms)
        return
    sums[(name, labels)] = sums.get((name, labels), 0) + value


def duration_bucket(duration_ms: float) -> str:
    for bound in DURATION_BUCKETS_MS:
        if duration_ms <= bound:
            return str(bound)
    return "+Inf"


def totals(tables: TablesDB, window: timedelta | None = None, now: datetime | None = None
           ) -> dict[tuple[str, str], int]:
    """(name, labels JSON) → the sum of its buckets (all time, or the last ``window``); packed histogram
    rows come out as their ``_bucket`` and ``_sum`` series."""
    filters = [Query.greater_than_equal("minute", minute_of((now or datetime.now(UTC)) - window))] if window else []
    sums: dict[tuple[str, str], int] = {}
    cursor: str | None = None
    while True:
        queries = [*filters, Query.limit(PAGE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        rows = tables.list_rows(CORE_DATABASE_ID, TABLE, queries, total=False).rows
        for row in rows:
            _add(sums, str(row.data.get("name")), str(row.data.get("labels") or "{}"), int(row.data.get("value") or 0))
        if len(rows) < PAGE:
            return sums
        cursor = rows[-1].id


TOTAL_MINUTE = "total"  # the bucket that holds everything compacted so far
COMPACT_BATCH = 33  # rows folded per transaction: ≤ 66 increments (a packed row feeds two totals) + 33 deletes,
# under Appwrite's 100


def compact(tables: TablesDB, older_than: timedelta = timedelta(hours=1), *, deadline: float | None = None,
            now: datetime | None = None) -> int:
    """Fold minute buckets older than ``older_than`` into each series' ``total`` row and delete them.

    Each batch is one transaction (increments of the totals + deletes of the folded rows), so the sums the
    exporter reads never change: counters stay monotonic while the table stays small. A packed histogram
    row is unpacked into the plain ``_bucket`` and ``_sum`` totals (64-bit counters, no packing bound).
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
            _add(sums, str(row.data.get("name")), str(row.data.get("labels") or "{}"), int(row.data.get("value") or 0))
        operations: list[dict[str, Any]] = []
        for (name, labels), value in sums.items():
            if value <= 0:  # nothing to add (e.g. a sum of sub-millisecond durations); Appwrite refuses 0
                continue
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
