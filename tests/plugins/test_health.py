"""Provider health counters and the fallback's circuit breaker (bigtech.plugins.health)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.plugins import ExecuteRequest, FakeFonteClient, PluginResult, Status, core_calls, run_execute
from bigtech.plugins.health import BreakerPolicy, Health, MemoryHealthStore, minute_of
from tests.conftest import make_client
from tests.support.actors import ensure_core

from .conftest import load_plugin_module

cadastral = load_plugin_module("consulta", "cadastral", "cadastral")
CNPJ = "11222333000181"


def down(request):
    return PluginResult.error(Status.RETRYABLE, "provider_unavailable", "down")


def consult(plugin, tenant="t-health", config=None):
    body = ExecuteRequest(tenant_id=tenant, request_id=f"r-{uuid.uuid4().hex[:8]}", input={"document": CNPJ},
                          config=config or {}, fontes=["fonte-a", "fonte-sandbox"])
    return run_execute(plugin, body)


def make(store, client):
    return cadastral.CadastralConsulta(fonte_client=client, health_store=store)


def test_every_call_is_counted_per_fonte_query_and_minute(sandbox):
    store = MemoryHealthStore()
    result = consult(make(store, FakeFonteClient({"fonte-a": down, "fonte-sandbox": sandbox})))
    assert result.status is Status.OK
    rows = {(f, q): row for (t, f, q, m), row in store.rows.items()}
    assert rows[("fonte-a", "cnpj")] | {"latency_ms_total": 0} == {
        "calls": 1, "successes": 0, "billable": 0, "errors": 1, "latency_ms_total": 0}
    sandbox_row = rows[("fonte-sandbox", "cnpj")]
    assert [sandbox_row[k] for k in ("calls", "successes", "billable", "errors")] == [1, 1, 1, 0]
    assert all(m == minute_of(datetime.now(UTC)) for (_, _, _, m) in store.rows)


def test_a_fonte_failing_n_times_is_skipped_then_tried_again_after_the_window(sandbox):
    store = MemoryHealthStore()
    client = FakeFonteClient({"fonte-a": down, "fonte-sandbox": sandbox})
    plugin = make(store, client)
    for _ in range(5):
        assert consult(plugin).status is Status.OK
    assert [c[0] for c in client.calls].count("fonte-a") == 5
    tripped = consult(plugin)
    assert tripped.status is Status.OK and [c[0] for c in client.calls].count("fonte-a") == 5  # not called
    first = tripped.sources[0]
    assert (first.plugin, first.status, first.error.code, first.billable) == (
        "fonte-a", Status.RETRYABLE, "circuit_open", False)
    # another tenant's breaker is its own
    consult(plugin, tenant="t-other")
    assert [c[0] for c in client.calls].count("fonte-a") == 6
    # the window slides past the failures: the fonte is asked again
    later = Health(store, "t-health", BreakerPolicy(), now=lambda: datetime.now(UTC) + timedelta(minutes=6))
    assert later.open_fontes(["fonte-a"], "cnpj") == set()
    assert Health(store, "t-health", BreakerPolicy()).open_fontes(["fonte-a", "fonte-sandbox"], "cnpj") == {"fonte-a"}


def test_successes_keep_the_circuit_closed_and_zero_disables_it(sandbox):
    store = MemoryHealthStore()
    for _ in range(6):
        store.record("t", "fonte-a", "cnpj", minute_of(datetime.now(UTC)),
                     {"calls": 2, "successes": 1, "billable": 1, "errors": 1, "latency_ms_total": 10})
    assert Health(store, "t", BreakerPolicy()).open_fontes(["fonte-a"], "cnpj") == set()  # 6 errors, 6 successes
    store.record("t", "fonte-a", "cnpj", minute_of(datetime.now(UTC)), {"calls": 1, "errors": 1})
    assert Health(store, "t", BreakerPolicy()).open_fontes(["fonte-a"], "cnpj") == {"fonte-a"}
    assert Health(store, "t", BreakerPolicy(failures=0)).open_fontes(["fonte-a"], "cnpj") == set()
    assert BreakerPolicy.from_config({"circuit_breaker_failures": 3, "circuit_breaker_minutes": 2}) == \
        BreakerPolicy(failures=3, window_minutes=2)


def test_a_broken_health_store_never_fails_a_consulta(sandbox):
    class Broken:
        def record(self, *args):
            raise RuntimeError("db down")

        def window(self, *args):
            raise RuntimeError("db down")

    result = consult(make(Broken(), FakeFonteClient({"fonte-a": down, "fonte-sandbox": sandbox})))
    assert result.status is Status.OK


def test_on_the_stack_counters_land_in_core_and_the_breaker_opens(stack):
    """Real executions: the consulta counts each fonte call in core.provider_health with its own key;
    after 5 refusals of a misconfigured BrasilAPI the 6th consulta does not call it."""
    ensure_core(stack)  # what scripts/dev's seed does: the core database with provider_health
    tenant = f"t-h{uuid.uuid4().hex[:8]}"
    functions = Functions(make_client(stack))
    fontes = [{"id": "fonte-brasilapi", "config": {"base_url": "https://127.0.0.1/api/"}}, {"id": "fonte-sandbox"}]
    bodies = []
    for i in range(6):
        raw = json.dumps({"tenant_id": tenant, "request_id": f"rq-{i}", "input": {"document": CNPJ},
                          "fontes": fontes})
        execution = functions.create_execution(  # as CORE calls a plugin: with the CORE-only token
            "consulta-cadastral", body=raw, path="/execute", method=ExecutionMethod.POST,
            headers={"content-type": "application/json",
                     **core_calls.headers("consulta-cadastral", "POST", "/execute", raw)})
        bodies.append(json.loads(execution.responsebody))
    assert all(b["status"] == "ok" for b in bodies)
    assert [s["error"]["code"] for s in bodies[0]["sources"][:1]] == ["invalid_config"]
    assert bodies[5]["sources"][0]["error"]["code"] == "circuit_open"
    rows = TablesDB(make_client(stack)).list_rows("core", "provider_health", [
        Query.equal("tenant_id", [tenant]), Query.limit(100)]).rows
    by_fonte = {}
    for row in rows:
        for key in ("calls", "errors", "successes", "billable"):
            by_fonte.setdefault(row.data["fonte"], {}).setdefault(key, 0)
            by_fonte[row.data["fonte"]][key] += row.data[key]
    assert by_fonte["fonte-brasilapi"] == {"calls": 5, "errors": 5, "successes": 0, "billable": 0}
    assert by_fonte["fonte-sandbox"] == {"calls": 6, "errors": 0, "successes": 6, "billable": 6}
