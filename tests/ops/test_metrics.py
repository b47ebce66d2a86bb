"""Metrics and logs: the metrics function serves the Prometheus text format (parsed with
prometheus_client's parser) whose counters move by exactly the executions the test ran; the token is
required; every execution writes one structured, masked JSON log line; the example alert rules and the
Grafana dashboard only name metrics the function serves."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from prometheus_client.parser import text_string_to_metric_families

from bigtech import metrics
from bigtech.documents import cpf_check_digits
from bigtech.http import Router, serve
from tests.conftest import make_client
from tests.support.actors import call, create_tenant, platform_admin, tenant_id_for
from tests.support.fake_context import call as fake_call

REPO = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests"


def scrape(stack, token: str | None = TOKEN):
    """A guest's GET / (no key, no session), as Prometheus scrapes the function."""
    client_headers = {"x-metrics-token": token} if token is not None else {}
    client = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    execution = Functions(client).create_execution("metrics", body="", xasync=False, path="/",
                                                   method=ExecutionMethod.GET, headers=client_headers)
    return int(execution.responsestatuscode), execution.responsebody or ""


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found, name: str, **labels) -> float:
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= set(ls))


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("BIGTECH_METRICS_TOKEN", TOKEN)


@pytest.mark.slow
def test_counters_match_the_executions_the_test_ran(stack, token):
    admin = platform_admin(stack)
    _tenant, owner = create_tenant(stack, admin, tenant_id_for("mx"))
    owner.call("billing", "GET", "/wallet")  # the first use of the route this minute may create its rows
    status, before_text = scrape(stack)
    assert status == 200, before_text
    before = samples(before_text)
    for _ in range(3):
        assert owner.call("billing", "GET", "/wallet").status == 200
    assert owner.call("billing", "GET", "/no-such-route").status == 404
    status, after_text = scrape(stack)
    after = samples(after_text)
    wallet = {"function": "billing", "route": "/wallet", "status": "200"}
    assert value(after, "bigtech_executions_total", **wallet) - value(before, "bigtech_executions_total", **wallet) == 3
    unmatched = {"function": "billing", "route": "unmatched", "status": "404"}
    assert value(after, "bigtech_executions_total", **unmatched) - value(
        before, "bigtech_executions_total", **unmatched) == 1
    count = value(after, "bigtech_execution_duration_ms_count", **wallet)
    assert count == value(after, "bigtech_executions_total", **wallet)
    assert value(after, "bigtech_execution_duration_ms_bucket", le="+Inf", **wallet) == count
    assert value(after, "bigtech_execution_duration_ms_sum", **wallet) >= 0


def test_the_token_is_required(stack, monkeypatch):
    monkeypatch.setenv("BIGTECH_METRICS_TOKEN", TOKEN)
    assert scrape(stack, None)[0] == 401
    assert scrape(stack, "wrong")[0] == 401
    monkeypatch.delenv("BIGTECH_METRICS_TOKEN")
    assert scrape(stack)[0] == 403


def test_one_masked_json_log_line_per_execution():
    router = Router()
    router.add("GET", "/things/{thing_id}", lambda request, thing_id: {"ok": True}, action="health.read")
    cpf = "529982247" + cpf_check_digits("529982247")
    answer = fake_call(serve(router), "GET", f"/things/{cpf}", headers={"x-tenant-id": cpf,
                                                                          "x-appwrite-execution-id": "exec-1"})
    lines = [json.loads(m) for m in answer.context.logs if m.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    assert line["event"] == "execution" and line["route"] == "/things/{thing_id}" and line["status"] == 200
    assert line["request_id"] == "exec-1" and line["duration_ms"] >= 0 and cpf not in json.dumps(line)


def test_alert_rules_and_dashboard_name_only_served_metrics(stack, token, monkeypatch):
    monkeypatch.setenv("BIGTECH_BACKUP_BUCKET", "any-bucket")  # backup age comes from the core, not the bucket
    _status, text = scrape(stack)
    served = {family.name for family in text_string_to_metric_families(text)}
    served |= {name + suffix for name in served for suffix in ("_total", "_bucket", "_sum", "_count")}
    monitoring = REPO / "docs" / "monitoring"
    rules = (monitoring / "prometheus-alerts.yml").read_text()
    dashboard = (monitoring / "grafana-dashboard.json").read_text()
    json.loads(dashboard)
    used = set(re.findall(r"\bbigtech_[a-z_]+", rules + dashboard))
    assert used and used <= served, used - served
    assert "bigtech_backup_store_configured" in used
    core_age = samples(text)[("bigtech_backup_age_seconds", (("database", "core"),))]
    assert core_age == 1e9 or core_age < 3600  # never backed up (BigtechBackupTooOld fires), or just now



@pytest.mark.slow
def test_compaction_folds_old_buckets_without_moving_the_counters(stack, token):
    tables = TablesDB(make_client(stack))
    labels = {"function": "compaction-test", "route": "/", "method": "GET", "status": "200"}
    for minutes_ago in (180, 120, 90):
        metrics.record(tables, "bigtech_execution_duration_ms_bucket", {**labels, "le": "10"},
                       moment=datetime.now(UTC) - timedelta(minutes=minutes_ago))
    metrics.record(tables, "bigtech_execution_duration_ms_bucket", {**labels, "le": "10"})  # this minute
    before = value(samples(scrape(stack)[1]), "bigtech_executions_total", function="compaction-test")
    assert before == 4
    result = call(stack, None, "metrics", "POST", "/")
    assert result.status == 200 and result.body["folded"] >= 3
    after = value(samples(scrape(stack)[1]), "bigtech_executions_total", function="compaction-test")
    assert after == before
    encoded = metrics.labels_json({**labels, "le": "10"})
    left = [r.data["minute"] for r in tables.list_rows("core", "metrics", [
        Query.equal("labels", encoded)]).rows]
    assert sorted(left)[-1] == "total" and len(left) == 2  # the total and this minute's bucket


def test_a_packed_duration_is_one_count_and_its_milliseconds():
    one = metrics.pack_duration(123.4)
    assert metrics.unpack(one) == (1, 123)
    # a minute row's worst case stays exact below 2^53: 2^20 - 1 executions of the longest duration
    # would overflow the sum field, so the documented bound is n · ms < 2^33; check the edges of both
    most = (2**20 - 1) * metrics.pack_duration(8000)  # ~1M executions of 8 s: 8.4e9 ms < 2^33
    assert most < 2**53 and metrics.unpack(most) == (2**20 - 1, (2**20 - 1) * 8000)
    assert metrics.unpack(metrics.pack_duration(10**9)) == (1, metrics.MAX_DURATION_MS)  # clamped
    assert metrics.unpack(metrics.pack_duration(-5)) == (1, 0)


@pytest.mark.slow
def test_packed_rows_old_rows_and_compaction_export_one_histogram(stack, token):
    """One increment per execution (count and sum packed) exports the same histogram as the old
    bucket + sum rows, mixed with them, and compaction folds both into plain totals."""
    tables = TablesDB(make_client(stack))
    labels = {"function": "packed-test", "route": "/", "method": "GET", "status": "200"}
    old = datetime.now(UTC) - timedelta(minutes=150)
    metrics.record(tables, "bigtech_execution_duration_ms_bucket", {**labels, "le": "10"}, moment=old)  # old shape
    metrics.record(tables, "bigtech_execution_duration_ms_sum", labels, 7, moment=old)
    for duration, moment in ((8.2, old), (30.0, old), (40.4, None), (20_000.0, None)):
        metrics.record_duration(tables, "bigtech_execution_duration_ms", labels, duration, moment)

    def histogram() -> dict[str, float]:
        found = samples(scrape(stack)[1])
        wanted = {"function": "packed-test"}
        return {"count": value(found, "bigtech_execution_duration_ms_count", **wanted),
                "sum": value(found, "bigtech_execution_duration_ms_sum", **wanted),
                "le10": value(found, "bigtech_execution_duration_ms_bucket", le="10", **wanted),
                "le50": value(found, "bigtech_execution_duration_ms_bucket", le="50", **wanted),
                "inf": value(found, "bigtech_execution_duration_ms_bucket", le="+Inf", **wanted),
                "executions": value(found, "bigtech_executions_total", **wanted)}

    before = histogram()
    assert before == {"count": 5, "sum": 7 + 8 + 30 + 40 + 20_000, "le10": 2, "le50": 4, "inf": 5, "executions": 5}
    result = call(stack, None, "metrics", "POST", "/")
    assert result.status == 200 and result.body["folded"] >= 4
    assert histogram() == before
