"""Credito's queries run at once, keep their attempts in query order, and the run's provider health is
read once and written once (bigtech.plugins.fallback ``ask_all``, bigtech.plugins.health)."""

from __future__ import annotations

import threading
import time

from appwrite.exception import AppwriteException

from bigtech.plugins import ExecuteRequest, FakeFonteClient, PluginResult, Status, run_execute
from bigtech.plugins.health import AppwriteHealthStore, Health, MemoryHealthStore

from .conftest import load_plugin_module

CPF = "52998224725"
credito = load_plugin_module("consulta", "credito", "credito")


def run_credito(client, store=None):
    plugin = credito.CreditoConsulta(fonte_client=client, health_store=store or MemoryHealthStore())
    body = ExecuteRequest(tenant_id="t1", request_id="req-1", input={"document": CPF}, config={}, fontes=["fonte-a"])
    return run_execute(plugin, body)


def test_the_three_queries_overlap_in_time_and_sources_stay_in_query_order(sandbox):
    inside, peak, lock = [0], [0], threading.Lock()

    def slow(request):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        time.sleep(0.2)  # a provider taking its time: sequential would take 0.6 s
        with lock:
            inside[0] -= 1
        return run_execute(sandbox, request)

    result = run_credito(FakeFonteClient({"fonte-a": slow}))
    assert result.status in (Status.OK, Status.NOT_FOUND) and peak[0] == 3  # all three inside at once
    assert [s.query for s in result.sources] == ["protestos", "cheques", "pgfn"]
    assert result.billable and all(s.billable for s in result.sources)


def test_a_failed_query_still_ends_the_consulta_and_reports_what_the_others_billed(sandbox):
    def no_protestos(request):
        if request.input["query"] == "protestos":
            return PluginResult.error(Status.RETRYABLE, "source_unavailable", "down")
        return run_execute(sandbox, request)

    result = run_credito(FakeFonteClient({"fonte-a": no_protestos}))
    assert result.status is Status.RETRYABLE and result.data is None
    assert [(s.query, s.billable) for s in result.sources] == [("protestos", False), ("cheques", True),
                                                                ("pgfn", True)]


class CountingStore(MemoryHealthStore):
    """Memory store that also answers ``windows``/``record_many`` and counts how often each is used."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.writes = 0

    def windows(self, tenant_id, fontes, since_minute):
        self.reads += 1
        return {}

    def record_many(self, tenant_id, records):
        self.writes += 1
        for fonte, query, minute, counters in records:
            self.record(tenant_id, fonte, query, minute, counters)


def test_health_is_read_once_and_written_once_per_execution(sandbox):
    store = CountingStore()
    run_credito(FakeFonteClient({"fonte-a": sandbox}), store)
    assert (store.reads, store.writes) == (1, 1)
    assert sorted(q for (_, _, q, _) in store.rows) == ["cheques", "pgfn", "protestos"]


class FakeTables:
    """Just enough TablesDB for ``AppwriteHealthStore.record_many``: rows that ``create_row`` makes (409
    when there), ``update_row`` with DB operators (404 when missing), per-column increments."""

    def __init__(self, existing: set[str]) -> None:
        self.rows = {rid: {} for rid in existing}
        self.calls: list[str] = []

    def create_row(self, database_id, table_id, row_id, data):
        self.calls.append("create_row")
        if row_id in self.rows:
            raise AppwriteException("exists", 409, "row_already_exists")
        self.rows[row_id] = {k: v for k, v in data.items() if isinstance(v, int)}

    def update_row(self, database_id, table_id, row_id, data):
        import json

        self.calls.append("update_row")
        if row_id not in self.rows:
            raise AppwriteException("not found", 404, "row_not_found")
        for column, operator in data.items():
            decoded = json.loads(operator)
            assert decoded["method"] == "increment"
            self.rows[row_id][column] = self.rows[row_id].get(column, 0) + decoded["values"][0]

    def increment_row_column(self, database_id, table_id, row_id, column, value):
        self.calls.append("increment")
        self.rows[row_id][column] = self.rows[row_id].get(column, 0) + value


def records(health: Health, n: int) -> None:
    for query in ("protestos", "cheques", "pgfn")[:n]:
        health.record("fonte-a", query, PluginResult(status=Status.OK, data={}, billable=True), 12)


def test_rows_the_breaker_read_saw_are_incremented_in_one_call_each():
    """Was one 3-call transaction for the run; now one operator update per row (credito: 3 rows, 3 calls;
    cadastral and veicular: 1 row, 1 call)."""
    from bigtech.plugins.health import minute_of, row_id

    health = Health(AppwriteHealthStore(None), "t1")
    minute = minute_of(health.now())
    tables = FakeTables({row_id("t1", "fonte-a", q, minute) for q in ("protestos", "cheques", "pgfn")})
    health.store.tables = tables
    health.store.seen = {("fonte-a", q, minute) for q in ("protestos", "cheques", "pgfn")}
    records(health, 3)
    health.flush()
    assert tables.calls == ["update_row"] * 3
    assert all(row == {"calls": 1, "successes": 1, "billable": 1, "latency_ms_total": 12}
               for row in tables.rows.values())


def test_a_row_not_seen_is_created_with_its_counts_and_counted_once():
    """The first call of a minute creates the row (1 call; was a failed 3-call transaction + the create);
    a row created meanwhile by another consulta (409) is incremented instead."""
    from bigtech.plugins.health import minute_of, row_id

    health = Health(AppwriteHealthStore(None), "t1")
    minute = minute_of(health.now())
    tables = FakeTables({row_id("t1", "fonte-a", "protestos", minute)})  # created by someone after our read
    health.store.tables = tables
    records(health, 2)
    health.flush()
    assert tables.calls == ["create_row", "update_row", "create_row"]
    assert all(row["calls"] == 1 and row["successes"] == 1 for row in tables.rows.values())
    assert len(tables.rows) == 2
