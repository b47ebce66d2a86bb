"""The reaper on the local stack: a consulta that died between reserve and settle gets its credits back
and its idempotency key freed, exactly once, by billing's scheduled run; nothing else is touched.

A crash is simulated by reserving (and claiming a key) directly with the key client and never settling.
"Stale" rows are written with the local stack's clock turned back (``tablesdb.store.now_iso`` stamps
``$createdAt``); the library tests pass ``now`` instead.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta

import pytest
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech import idempotency
from bigtech.credits import Hold, balance_from, reaper, release_now, reserve
from bigtech.documents import cpf_check_digits
from bigtech.plugins import validate_input
from local_appwrite.tablesdb import store
from tests.conftest import make_client
from tests.support.actors import REPO_ROOT, add_member, create_tenant, load_router, platform_admin, tenant_id_for

PRICE = 100  # cadastral
BODY = {"category": "cadastral", "purpose": "análise de crédito", "legal_basis": "protecao_credito",
        "document": "123456123" + cpf_check_digits("123456123")}


@contextmanager
def clock_at(moment: datetime):
    """Rows the local stack writes inside this block carry ``moment`` as their ``$createdAt``."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "now_iso", lambda: moment.isoformat(timespec="milliseconds"))
        yield


def long_ago() -> datetime:
    return datetime.now(UTC) - reaper.STALE_AFTER - timedelta(minutes=5)


def consultas_fingerprint(body: dict) -> str:
    """What ``consultas POST /`` stores as the request hash of ``body`` (so a real retry matches the claim)."""
    load_router("consultas")  # binds the function's package as the runtime does
    create = importlib.import_module("_routes_consultas.src.create")
    model = importlib.import_module("_routes_consultas.src.models").ConsultaBody.model_validate(body)
    lookup = validate_input(model.category, model.lookup_input())
    return create.fingerprint(model, lookup, create.document_key())


def crash(stack, tenant_id, actor, *, key=None, at=None) -> Hold:
    """A consulta that claimed its key and reserved its price, then died: nothing settles it."""
    tables = TablesDB(make_client(stack))
    database_id = f"tenant_{tenant_id}"
    with clock_at(at) if at else nullcontext():
        claimed = None
        if key:
            claimed = idempotency.claim(tables, database_id, f"consultas:{actor.user_id}", key,
                                        consultas_fingerprint(BODY))
        consulta_id = claimed.resource_id("c") if claimed else ID.unique()
        return reserve(tables, Hold(database_id, actor.user_id, PRICE, "consulta", consulta_id, actor=actor.user_id))


def consulta(actor, key=None):
    return actor.call("consultas", "POST", "/", BODY,
                      headers={"idempotency-key": key} if key else None).unwrapped("consulta")


def run_schedule(stack) -> tuple[dict, str]:
    """billing's scheduled execution, now (as Appwrite runs it: POST /, trigger schedule, no user)."""
    execution = make_client(stack).call("post", "/local/functions/billing/schedule",
                                        {"content-type": "application/json"}, {})
    assert execution["trigger"] == "schedule" and execution["status"] == "completed", execution
    assert execution["responseStatusCode"] == 200, execution
    return json.loads(execution["responseBody"]), execution["logs"]


def wallet(actor):
    return actor.call("billing", "GET", "/wallet").body["wallet"]


def rows(stack, tenant_id, table, *queries):
    tables = TablesDB(make_client(stack))
    return [r.data | {"$id": r.id} for r in tables.list_rows(f"tenant_{tenant_id}", table,
                                                            [*queries, Query.limit(100)]).rows]


def ledger(stack, tenant_id, user_id):
    return rows(stack, tenant_id, "ledger", Query.equal("wallet_id", [user_id]))


def assert_adds_up(stack, tenant_id, actor):
    entries = ledger(stack, tenant_id, actor.user_id)
    current = wallet(actor)
    total = Counter()
    for entry in entries:
        total[entry["type"]] += entry["amount"]
    assert balance_from(entries) == current["balance"]
    assert total["hold"] == total["debit"] + total["release"] + current["held"]
    return entries


def reaper_audit(stack, tenant_id):
    return rows(stack, tenant_id, "audit", Query.equal("action", [reaper.ACTION]))


@pytest.fixture(scope="module")
def tenant(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rp"))
    return tenant_id, owner, admin


def grant(owner, user_id, credits):
    result = owner.call("billing", "POST", "/grants", {"user_id": user_id, "credits": credits, "reason": "tests"})
    assert result.status == 201, result


@pytest.mark.slow
def test_the_scheduled_run_releases_a_stale_hold_once_and_frees_its_key(stack, tenant):
    tenant_id, owner, _ = tenant
    analyst = add_member(owner, "analyst")
    grant(owner, analyst.user_id, 1000)
    stale = crash(stack, tenant_id, analyst, key="lost-1", at=long_ago())
    fresh = crash(stack, tenant_id, analyst)                       # still within a consulta's lifetime
    with clock_at(long_ago()):                                      # an old consulta that did finish
        done = consulta(analyst, key="done-1")
    assert done.status == 201 and done.body["cost_credits"] == PRICE, done
    assert wallet(analyst) | {"updated_at": None} == {
        "id": analyst.user_id, "user_id": analyst.user_id, "balance": 700, "held": 200, "updated_at": None}
    stuck = consulta(analyst, key="lost-1")
    assert stuck.status == 409 and stuck.error_code == "idempotency_in_progress"

    report, logs = run_schedule(stack)
    assert report["holds_released"] >= 1 and report["keys_cleared"] >= 1 and report["tenants"] >= 1
    assert "tenants scanned" in logs and "holds released" in logs and "idempotency keys cleared" in logs
    assert report["audit_errors"] == [] and "audit sweep:" in logs  # the same schedule seals leftover entries

    assert wallet(analyst)["balance"] == 800 and wallet(analyst)["held"] == PRICE   # only the fresh one held
    entries = assert_adds_up(stack, tenant_id, analyst)
    releases = [e for e in entries if e["type"] == "release"]
    assert len(releases) == 1
    assert releases[0]["reference_id"] == stale.reference_id and releases[0]["actor"] == reaper.ACTOR
    assert releases[0]["reason"] == reaper.REASON
    settled = {e["reference_id"] for e in entries if e["type"] in ("debit", "release")}
    assert fresh.reference_id not in settled and done.body["id"] in settled
    [audit] = reaper_audit(stack, tenant_id)
    assert (audit["actor"], audit["resource_type"], audit["resource_id"]) == (
        reaper.ACTOR, "consulta", stale.reference_id)
    assert json.loads(audit["details"])["credits"] == PRICE
    [event] = rows(stack, tenant_id, "outbox", Query.equal("type", [reaper.EVENT]))
    assert json.loads(event["payload"])["reference_id"] == stale.reference_id
    assert event["tenant_id"] == tenant_id and json.loads(event["payload"])["audit_id"] == audit["$id"]
    verdict = owner.call("audit", "GET", "/verify").body
    assert verdict["ok"] is True, verdict

    # A second run changes nothing.
    run_schedule(stack)
    assert wallet(analyst)["balance"] == 800 and wallet(analyst)["held"] == PRICE
    assert ledger(stack, tenant_id, analyst.user_id) == entries
    assert len(reaper_audit(stack, tenant_id)) == 1

    # The freed key runs the consulta again (charged once); the finished one still replays.
    retried = consulta(analyst, key="lost-1")
    assert retried.status == 201 and retried.body["cost_credits"] == PRICE, retried
    assert retried.headers.get("idempotent-replayed") is None and retried.body["id"] != stale.reference_id
    assert consulta(analyst, key="lost-1").headers.get("idempotent-replayed") == "true"
    replay = consulta(analyst, key="done-1")
    assert replay.headers.get("idempotent-replayed") == "true" and replay.body["id"] == done.body["id"]
    assert wallet(analyst)["balance"] == 700
    assert_adds_up(stack, tenant_id, analyst)
    assert owner.call("audit", "GET", "/verify").body["ok"] is True


def test_users_cannot_run_the_reaper(stack, tenant):
    tenant_id, owner, admin = tenant
    analyst = add_member(owner, "analyst")
    grant(owner, analyst.user_id, PRICE)
    crash(stack, tenant_id, analyst, at=long_ago())
    for caller in (owner, analyst, admin):
        result = caller.call("billing", "POST", "/", {}, tenant=tenant_id)
        assert result.status == 403 and result.error_code == "core_only", result
    assert wallet(analyst)["held"] == PRICE  # nothing was released by them
    run_schedule(stack)
    assert wallet(analyst) | {"updated_at": None} == {
        "id": analyst.user_id, "user_id": analyst.user_id, "balance": PRICE, "held": 0, "updated_at": None}


@pytest.mark.slow
def test_concurrent_runs_release_once(stack):
    """The library with ``now`` moved past the cutoff: four runs at once, one release."""
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rq"))
    grant(owner, owner.user_id, 3 * PRICE)
    holds = [crash(stack, tenant_id, owner) for _ in range(3)]
    tables = TablesDB(make_client(stack))
    assert reaper.reap_tenant(tables, tenant_id).holds_released == 0          # not stale yet
    later = datetime.now(UTC) + reaper.STALE_AFTER + timedelta(minutes=1)
    with ThreadPoolExecutor(max_workers=4) as pool:
        reports = list(pool.map(lambda _: reaper.reap_tenant(tables, tenant_id, now=later), range(4)))
    assert [r.errors for r in reports] == [[]] * 4
    assert sum(r.holds_released for r in reports) == 3 and sum(r.credits_released for r in reports) == 3 * PRICE
    assert wallet(owner)["balance"] == 3 * PRICE and wallet(owner)["held"] == 0
    entries = assert_adds_up(stack, tenant_id, owner)
    assert sorted(e["reference_id"] for e in entries if e["type"] == "release") == sorted(
        h.reference_id for h in holds)
    assert len(reaper_audit(stack, tenant_id)) == 3
    assert not reaper.release_stale(tables, tenant_id, holds[0], "")           # already released: a no-op
    assert reaper.reap_tenant(tables, tenant_id, now=later).holds_released == 0
    assert owner.call("audit", "GET", "/verify").body["ok"] is True


def test_a_stale_hold_behind_pages_of_newer_holds_is_found(stack, tenant):
    """Holds are read newest first until the unsettled ones add up to ``held``: an old one is still reached."""
    tenant_id, owner, _ = tenant
    member = add_member(owner, "analyst")
    grant(owner, member.user_id, 2 * PRICE)
    tables = TablesDB(make_client(stack))
    stale = crash(stack, tenant_id, member, at=long_ago())
    for _ in range(reaper.PAGE + 5):  # finished consultas, newer than the stale one
        release_now(tables, crash(stack, tenant_id, member), reason="test")
    fresh = crash(stack, tenant_id, member)
    found = reaper.outstanding_holds(tables, f"tenant_{tenant_id}", member.user_id)
    assert [hold.reference_id for hold, _ in found] == [fresh.reference_id, stale.reference_id]
    report = reaper.reap_tenant(tables, tenant_id)
    assert (report.holds_released, report.errors) == (1, [])
    assert wallet(member)["balance"] == PRICE and wallet(member)["held"] == PRICE
    assert_adds_up(stack, tenant_id, member)


def test_the_cutoff_outlives_every_execution_that_holds_credits():
    """Appwrite kills an execution at its timeout: a hold or claim older than that plus a margin is dead."""
    functions = {f["$id"]: f for f in json.loads((REPO_ROOT / "appwrite.json").read_text())["functions"]}
    longest = timedelta(seconds=max(functions["consultas"]["timeout"], functions["billing"]["timeout"]))
    stale_after, margin = reaper.STALE_AFTER, timedelta(minutes=5)
    assert stale_after >= longest + margin
    assert functions["billing"]["schedule"] == "*/5 * * * *"
    load_router("billing")
    budget = importlib.import_module("_routes_billing.src.reaping").BUDGET_SECONDS
    assert budget < functions["billing"]["timeout"]
