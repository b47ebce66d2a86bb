"""Billing's schedule visits only tenants with work: the ``work_pending`` markers (``bigtech.sweeps``).

Idle tenants cost the schedule nothing; a tenant with a stale hold or an unsealed entry is visited and its
markers cleared; a run that stops on its time budget loses nothing (the next one finishes)."""

from __future__ import annotations

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech import sweeps, uow
from bigtech.audit import AuditTrail, stage_entry, verify_trail
from bigtech.audit.sweep import sweep_marked
from bigtech.credits import reaper
from bigtech.schema.core import CORE_DATABASE_ID, WORK_PENDING_TABLE
from tests.conftest import make_client
from tests.core.test_reaper import crash, long_ago, run_schedule
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

IDLE_TENANTS = 40


@pytest.fixture(scope="module")
def tenant(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("sw"))
    return tenant_id, owner, admin


def credit_markers(stack, database_id: str) -> int:
    return sum(1 for m in markers(stack, database_id) if m["kind"] == sweeps.CREDITS)


def markers(stack, database_id: str) -> list[dict]:
    rows = TablesDB(make_client(stack)).list_rows(CORE_DATABASE_ID, WORK_PENDING_TABLE, [
        Query.equal("database_id", [database_id]), Query.limit(100)]).rows
    return [row.data for row in rows]


def calls_during(stack, action) -> tuple[list[str], object]:
    """The API calls the stack served while ``action`` ran (the schedule's own, inside its execution)."""
    seen: list[str] = []

    def observe(request, route, response):
        seen.append(f"{request.method} {request.path}")

    stack.dispatcher.observers.append(observe)
    try:
        result = action()
    finally:
        stack.dispatcher.observers.remove(observe)
    return [c for c in seen if "/local/functions/" not in c], result


@pytest.fixture
def idle_tenants(stack):
    """Tenant rows as provisioning leaves them (the old sweeps visited each of them on every run), but with
    no database behind them: removed afterwards, so the other sweeps of the session (retention, backups,
    subject reports) never meet them."""
    tables = TablesDB(make_client(stack))
    ids = [f"idle-sweep-{n:03d}" for n in range(IDLE_TENANTS)]
    for tenant_id in ids:
        tables.upsert_row(CORE_DATABASE_ID, "tenants", tenant_id, {
            "name": tenant_id, "status": "active", "team_id": tenant_id, "database_id": f"tenant_{tenant_id}",
            "provisioning": "active"})
    yield ids
    for tenant_id in ids:
        tables.delete_row(CORE_DATABASE_ID, "tenants", tenant_id)


def test_with_many_idle_tenants_a_schedule_run_makes_a_constant_number_of_calls(stack, tenant, idle_tenants):
    # On the suite's shared stack other tests' tenants still write (audit entries of asynchronous
    # executions) and a run may stop on its budget: run until one finds no tenant with work. Tenants whose
    # chain other tests broke on purpose keep their markers (the sweep reports them on every run, an alarm
    # that does not go quiet): they are the only tenant trails a quiet run may still visit.
    for _ in range(10):
        calls, (report, _) = calls_during(stack, lambda: run_schedule(stack))
        broken = {error.split("/")[0] for error in report["audit_checkpoint_errors"]}
        if report["tenants"] == 0 and report["audit_trails"] == 1 + len(broken) and report["complete"]:
            break
    else:
        pytest.fail(f"the schedule kept finding work: {report}")
    assert report["audit_complete"], report
    calls = [c for c in calls if not any(f"/tablesdb/{database}/" in c for database in broken)]
    assert not [c for c in calls if "/tablesdb/tenant_" in c], calls
    # two marker reads, then the platform trail: seal (head, unsealed entries) and checkpoint (head, last
    # checkpoints, entries since): the same count with 1 tenant or 10,000
    assert len(calls) <= 12, calls  # (and a marker delete when a run cleared some)


def test_a_tenant_with_a_stale_hold_is_visited_and_its_markers_cleared(stack, tenant):
    tenant_id, owner, _ = tenant
    database_id = f"tenant_{tenant_id}"
    member = add_member(owner, "analyst")
    owner.call("billing", "POST", "/grants", {"user_id": member.user_id, "credits": 500, "reason": "tests"})
    fresh = credit_markers(stack, database_id)  # the grant's, not due yet
    stale = crash(stack, tenant_id, member, key="sweep-1", at=long_ago())
    assert credit_markers(stack, database_id) == fresh + 1

    calls, (report, _) = calls_during(stack, lambda: run_schedule(stack))
    assert report["holds_released"] >= 1 and report["keys_cleared"] >= 1, report
    assert any(f"/tablesdb/{database_id}/" in c for c in calls)
    ledger = TablesDB(make_client(stack)).list_rows(database_id, "ledger", [
        Query.equal("reference_id", [stale.reference_id]), Query.equal("type", ["release"])]).rows
    assert len(ledger) == 1
    assert credit_markers(stack, database_id) == fresh


def test_a_reaper_stopped_by_its_budget_loses_nothing(stack, tenant):
    tenant_id, owner, _ = tenant
    database_id = f"tenant_{tenant_id}"
    tables = TablesDB(make_client(stack))
    member = add_member(owner, "analyst")
    owner.call("billing", "POST", "/grants", {"user_id": member.user_id, "credits": 500, "reason": "tests"})
    fresh = credit_markers(stack, database_id)
    stale = crash(stack, tenant_id, member, at=long_ago())

    stopped = reaper.reap_marked(tables, budget_seconds=0)
    assert not stopped.complete and stopped.tenants == 0
    assert credit_markers(stack, database_id) == fresh + 1  # still there

    finished = reaper.reap_marked(tables, budget_seconds=20)
    assert finished.complete and finished.holds_released >= 1
    released = tables.list_rows(database_id, "ledger", [
        Query.equal("reference_id", [stale.reference_id]), Query.equal("type", ["release"])]).rows
    assert len(released) == 1
    assert credit_markers(stack, database_id) == fresh


def test_an_unsealed_entry_is_swept_even_after_a_run_stopped_by_its_budget(stack, tenant):
    tenant_id, _, _ = tenant
    tables = TablesDB(make_client(stack))
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    unit = uow.UnitOfWork()
    stage_entry(tables, unit, trail, action="test.left", actor="tester")
    uow.commit(tables, unit.operations)  # no after-commit sealer: the entry stays unsealed
    assert [m for m in markers(stack, trail.database_id) if m["kind"] == sweeps.AUDIT]

    stopped = sweep_marked(tables, sweeps.Budget(0))
    assert not stopped.complete and stopped.sealed == 0
    assert verify_trail(tables, trail).unsealed == 1

    swept = sweep_marked(tables, sweeps.Budget(20))
    assert swept.complete and swept.sealed >= 1 and not swept.errors
    assert verify_trail(tables, trail).unsealed == 0
    assert not [m for m in markers(stack, trail.database_id) if m["kind"] == sweeps.AUDIT]
