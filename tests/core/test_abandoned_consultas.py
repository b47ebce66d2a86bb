"""Abandoned async consultas on the local stack (``bigtech.credits.abandoned``): a pending consulta whose
execution never ran, or died after reserving, is ended ``failed`` / ``consulta_abandoned`` by billing's
schedule, exactly once, with its hold released and its key freed; a late execution changes nothing; an
execution settling at the same moment as the sweep: exactly one of them ends it, and no credit is lost.

An accept whose execution never ran is simulated by doing what ``deferred.accept`` does (marker, claim,
pending row) without starting the execution; the job is run later, when the test says, as a synchronous
execution of ``POST /internal/run`` with CORE's token (what the async one carries).
"""

from __future__ import annotations

import importlib
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech import idempotency, sweeps
from bigtech.credits import Hold, abandoned, reaper, reserve
from bigtech.plugins import core_calls, validate_input
from tests.conftest import make_client
from tests.core.test_reaper import (
    BODY,
    PRICE,
    assert_adds_up,
    clock_at,
    consulta,
    consultas_fingerprint,
    grant,
    long_ago,
    rows,
    run_schedule,
    wallet,
)
from tests.support.actors import add_member, create_tenant, load_router, platform_admin, tenant_id_for

GRANTED = 1000


def consultas_module(name: str) -> Any:
    load_router("consultas")
    return importlib.import_module(f"_routes_consultas.src.{name}")


def accept_without_execution(stack, tenant_id: str, actor, key: str, at: datetime | None = None) -> Any:
    """What ``deferred.accept`` writes (marker, claim, pending row), and the job it would have started."""
    deferred, worker, create = (consultas_module(n) for n in ("deferred", "worker", "create"))
    tables = TablesDB(make_client(stack))
    database_id = f"tenant_{tenant_id}"
    body = {**BODY, "async": True}
    model = consultas_module("models").ConsultaBody.model_validate(body)
    lookup = validate_input(model.category, model.lookup_input())
    with clock_at(at) if at else nullcontext():
        sweeps.mark(tables, database_id, sweeps.CREDITS)
        claimed = idempotency.claim(tables, database_id, f"consultas:{actor.user_id}", key,
                                    consultas_fingerprint(BODY))
        job = deferred.Job(
            consulta_id=claimed.resource_id("c"), tenant_id=tenant_id, database_id=database_id,
            user_id=actor.user_id, role="analyst", settings={}, body=model.model_dump(by_alias=True),
            idempotency_key=key, client_key=True, claimed_at=claimed.created_at,
            fingerprint=consultas_fingerprint(BODY), document_hash=create.document_hash(lookup, create.document_key()))
        tables.create_row(database_id, deferred.TABLE, job.consulta_id,
                          deferred.pending_row(worker.command_of(job), True))
    return job


def died_after_reserving(stack, job: Any, at: datetime) -> Hold:
    """The execution took the run and reserved the price at ``at``, then died."""
    tables = TablesDB(make_client(stack))
    with clock_at(at):
        assert abandoned.take_run(tables, job.database_id, job.consulta_id)
        return reserve(tables, Hold(job.database_id, job.user_id, PRICE, "consulta", job.consulta_id,
                                    actor=job.user_id))


def run_job(stack, job: Any) -> dict:
    """The job's execution of ``POST /internal/run`` (synchronous here, so the test knows when it ended)."""
    payload = job.model_dump_json()
    execution = Functions(make_client(stack)).create_execution(
        "consultas", body=payload, xasync=False, path="/internal/run", method=ExecutionMethod.POST,
        headers=core_calls.headers("consultas", "POST", "/internal/run", payload))
    assert execution.responsestatuscode in (200, 201), (execution.responsestatuscode, execution.errors)
    return json.loads(execution.responsebody or "{}")


def row_of(stack, job: Any) -> dict:
    got = TablesDB(make_client(stack)).get_row(job.database_id, "consultas", job.consulta_id)
    return got.data


def entries_for(stack, tenant_id: str, consulta_id: str) -> list[str]:
    return sorted(e["type"] for e in rows(stack, tenant_id, "ledger", Query.equal("reference_id", [consulta_id])))


def abandon_audit(stack, tenant_id: str, consulta_id: str) -> list[dict]:
    return rows(stack, tenant_id, "audit", Query.equal("action", [abandoned.ACTION]),
                Query.equal("resource_id", [consulta_id]))


def failed_events(stack, tenant_id: str, consulta_id: str) -> list[dict]:
    events = rows(stack, tenant_id, "outbox", Query.equal("type", ["consulta.failed", "consulta.completed"]))
    return [e for e in events if json.loads(e["payload"]).get("consulta_id") == consulta_id]


@pytest.fixture(scope="module")
def tenant(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("ab"))
    return tenant_id, owner


def funded_analyst(tenant):
    """(tenant id, its owner, a new analyst of it holding ``GRANTED`` credits)."""
    tenant_id, owner = tenant
    member = add_member(owner, "analyst")
    grant(owner, member.user_id, GRANTED)
    return tenant_id, owner, member


@pytest.mark.slow
def test_abandoned_consultas_are_ended_once_and_the_member_is_whole(stack, tenant):
    tenant_id, owner, member = funded_analyst(tenant)
    never_ran = accept_without_execution(stack, tenant_id, member, "never-ran", at=long_ago())
    died = accept_without_execution(stack, tenant_id, member, "died", at=long_ago())
    hold = died_after_reserving(stack, died, at=long_ago())
    young = accept_without_execution(stack, tenant_id, member, "young")  # may still be queued: left alone
    assert wallet(member)["held"] == PRICE
    stuck = consulta(member, key="never-ran")
    assert stuck.status == 409 and stuck.error_code == "idempotency_in_progress"

    report, logs = run_schedule(stack)
    assert report["consultas_abandoned"] >= 2 and "abandoned consultas ended" in logs, report
    for job in (never_ran, died):
        shown = member.call("consultas", "GET", f"/{job.consulta_id}").unwrapped("consulta").body
        assert shown["status"] == "failed" and shown["error"]["code"] == abandoned.ERROR_CODE, shown
        assert shown["cost_credits"] == 0 and shown["completed_at"] and shown["audit_id"]
        [entry] = abandon_audit(stack, tenant_id, job.consulta_id)
        assert entry["actor"] == abandoned.ACTOR and entry["$id"] == shown["audit_id"]
        [event] = failed_events(stack, tenant_id, job.consulta_id)
        payload = json.loads(event["payload"])
        assert event["type"] == "consulta.failed" and payload["error"] == abandoned.ERROR_CODE
        assert payload["audit_id"] == entry["$id"]
    assert json.loads(abandon_audit(stack, tenant_id, died.consulta_id)[0]["details"])["credits_released"] == PRICE
    assert entries_for(stack, tenant_id, died.consulta_id) == ["hold", "release"]
    assert entries_for(stack, tenant_id, never_ran.consulta_id) == []
    assert row_of(stack, young)["status"] == "pending"
    assert wallet(member)["balance"] == GRANTED and wallet(member)["held"] == 0  # whole
    entries = assert_adds_up(stack, tenant_id, member)
    assert [e["reference_id"] for e in entries if e["type"] == "release"] == [hold.reference_id]

    # A second run changes nothing; nor does the late execution of either job.
    run_schedule(stack)
    for job in (never_ran, died):
        assert run_job(stack, job)["consulta"]["run"] == "skipped"
        assert row_of(stack, job)["status"] == "failed"
        assert len(abandon_audit(stack, tenant_id, job.consulta_id)) == 1
        assert len(failed_events(stack, tenant_id, job.consulta_id)) == 1
    assert ledger_types(stack, tenant_id, member) == [e["type"] for e in entries]
    assert wallet(member)["balance"] == GRANTED and wallet(member)["held"] == 0

    # The freed key runs the consulta again, under a new id, charged once.
    retried = consulta(member, key="never-ran")
    assert retried.status == 201 and retried.body["id"] != never_ran.consulta_id, retried
    assert wallet(member)["balance"] == GRANTED - retried.body["cost_credits"]
    assert_adds_up(stack, tenant_id, member)
    assert owner.call("audit", "GET", "/verify").body["ok"] is True

    # The young one runs when its execution comes, as usual.
    assert run_job(stack, young)["consulta"]["status"] in ("succeeded", "not_found")
    assert row_of(stack, young)["status"] in ("succeeded", "not_found")


def ledger_types(stack, tenant_id: str, member) -> list[str]:
    return [e["type"] for e in rows(stack, tenant_id, "ledger", Query.equal("wallet_id", [member.user_id]))]


def test_a_settled_consulta_is_left_alone_and_a_running_one_keeps_its_key(stack, tenant):
    tenant_id, _, member = funded_analyst(tenant)
    tables = TablesDB(make_client(stack))
    done = accept_without_execution(stack, tenant_id, member, "done", at=long_ago())
    run_job(stack, done)
    settled_row = row_of(stack, done)
    assert settled_row["status"] in ("succeeded", "not_found")
    # accepted long ago, but its execution started just now (queued): it may still run
    running = accept_without_execution(stack, tenant_id, member, "running", at=long_ago())
    assert abandoned.take_run(tables, running.database_id, running.consulta_id)

    report = reaper.reap_tenant(tables, tenant_id)
    assert (report.consultas_abandoned, report.consultas_deferred, report.errors) == (0, 1, [])
    assert row_of(stack, done) == settled_row
    assert row_of(stack, running)["status"] == "pending"
    claim = idempotency.row_id(f"consultas:{member.user_id}", "running")
    assert tables.get_row(running.database_id, idempotency.TABLE, claim)  # not freed: a retry would run it twice
    assert wallet(member)["balance"] == GRANTED - settled_row["cost"]

    # once its execution is past any timeout, it is ended
    later = datetime.now(UTC) + reaper.STALE_AFTER + timedelta(minutes=1)
    report = reaper.reap_tenant(tables, tenant_id, now=later)
    assert (report.consultas_abandoned, report.consultas_deferred, report.errors) == (1, 0, [])
    assert row_of(stack, running)["error"] and json.loads(row_of(stack, running)["error"])["code"] == \
        abandoned.ERROR_CODE
    assert row_of(stack, done) == settled_row


def test_a_marked_tenant_with_a_running_consulta_keeps_its_markers(stack, tenant):
    tenant_id, _, member = funded_analyst(tenant)
    tables = TablesDB(make_client(stack))
    running = accept_without_execution(stack, tenant_id, member, "marked", at=long_ago())
    assert abandoned.take_run(tables, running.database_id, running.consulta_id)
    report = reaper.reap_marked(tables)
    assert report.consultas_deferred >= 1, report.to_json()
    assert f"tenant_{tenant_id}" in sweeps.due(tables, sweeps.CREDITS, older_than=reaper.STALE_AFTER + reaper.MARK_LEAD)
    later = datetime.now(UTC) + reaper.STALE_AFTER + timedelta(minutes=1)
    assert reaper.reap_tenant(tables, tenant_id, now=later).consultas_abandoned == 1


@pytest.mark.slow
def test_a_late_execution_and_the_sweep_at_the_same_moment_end_it_once(stack, tenant):
    """The sweep runs with ``now`` past every cutoff, so it takes even a running execution for dead: the
    tokens alone decide, whatever the interleaving (the sweep before the run starts, while it runs, as it
    settles, or after it)."""
    tenant_id, owner, member = funded_analyst(tenant)
    tables = TablesDB(make_client(stack))
    later = datetime.now(UTC) + reaper.STALE_AFTER + timedelta(minutes=1)
    outcomes = []
    for n, delay in enumerate((0.0, 0.05, 0.15, 0.3, 0.6, 1.0)):
        job = accept_without_execution(stack, tenant_id, member, f"race-{n}")

        def sweep(pause: float = delay + random.uniform(0, 0.05)) -> reaper.Report:
            time.sleep(pause)
            return reaper.reap_tenant(tables, tenant_id, now=later)

        with ThreadPoolExecutor(max_workers=2) as pool:
            execution = pool.submit(run_job, stack, job)
            swept = pool.submit(sweep)
            execution.result(), swept.result()
        assert swept.result().errors == [], swept.result().errors
        final = row_of(stack, job)
        ledger = entries_for(stack, tenant_id, job.consulta_id)
        events = failed_events(stack, tenant_id, job.consulta_id)
        assert len(events) == 1, events  # exactly one of them ended it
        if final["status"] == "failed":
            assert json.loads(final["error"])["code"] == abandoned.ERROR_CODE and final["cost"] == 0
            assert ledger in ([], ["hold", "release"]), ledger
            assert len(abandon_audit(stack, tenant_id, job.consulta_id)) == 1
            outcomes.append("abandoned" if ledger else "abandoned before reserving")
        else:
            assert final["status"] in ("succeeded", "not_found") and final["cost"] == PRICE
            assert ledger == ["debit", "hold"], ledger
            assert abandon_audit(stack, tenant_id, job.consulta_id) == []
            outcomes.append("settled")
        current = wallet(member)
        assert current["held"] == 0
        assert current["balance"] == GRANTED - PRICE * outcomes.count("settled")  # every other one is whole
        assert_adds_up(stack, tenant_id, member)
    print("race outcomes:", outcomes)
    assert owner.call("audit", "GET", "/verify").body["ok"] is True
