"""Retention on the local stack: old consulta results are purged (the record of the processing stays),
idempotency keys expire, the ledger and the audit trail are untouched and still verify, each purge is
audited, and a tenant's override keeps its results longer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.ops.retention import run_retention
from tests.conftest import make_client
from tests.ops.test_backup_restore import consulta
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for


def rows(stack, tenant_id, table, *queries):
    return TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", table, [*queries, Query.limit(500)]).rows


@pytest.mark.slow
def test_old_results_are_purged_keeping_the_record_ledger_and_audit(stack):
    admin = platform_admin(stack)
    short_id, owner = create_tenant(stack, admin, tenant_id_for("rt"))
    long_id, long_owner = create_tenant(stack, admin, tenant_id_for("rl"))
    assert admin.call("tenants", "PATCH", f"/{long_id}", {"settings": {"result_retention_days": 365}}).status == 200
    for who, tenant in ((owner, short_id), (long_owner, long_id)):
        analyst = add_member(who, "analyst")
        assert who.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 500,
                                                       "reason": "retention"}).status == 201
        consulta(analyst)
        consulta(analyst)
    ledger_before = owner.call("billing", "GET", "/ledger?limit=100").body
    wallet_rows_before = [r.data for r in rows(stack, short_id, "wallets")]
    assert all(r.data["result"] for r in rows(stack, short_id, "consultas"))
    assert rows(stack, short_id, "idempotency")

    later = datetime.now(UTC) + timedelta(days=100)  # default: results kept 90 days, keys 7
    lines: list[str] = []
    report = run_retention(TablesDB(make_client(stack)), now=later, progress=lines.append)
    assert not report.errors and report.complete
    assert report.purged[f"{short_id}/consultas"] == 2 and f"{long_id}/consultas" not in report.purged

    purged = rows(stack, short_id, "consultas")
    assert [r.data["result"] for r in purged] == [None, None]
    for row in purged:  # what the processing was stays: masked input, hash, cost, purpose, legal basis
        assert row.data["input_masked"] and "*" in row.data["input_masked"]
        assert row.data["document_hash"] and row.data["cost"] > 0
        assert row.data["purpose"] and row.data["legal_basis"] == "protecao_credito"
    assert all(r.data["result"] for r in rows(stack, long_id, "consultas"))  # the override keeps them
    assert rows(stack, short_id, "idempotency") == []

    assert owner.call("billing", "GET", "/ledger?limit=100").body == ledger_before
    assert [r.data for r in rows(stack, short_id, "wallets")] == wallet_rows_before
    verify = owner.call("audit", "GET", "/verify").body
    assert verify["ok"], verify
    audited = owner.call("audit", "GET", "/?action=retention.purged").body["items"]
    assert {entry["resource_id"] for entry in audited} >= {"consultas", "idempotency"}
    history = owner.call("consultas", "GET", "/").body["items"]
    assert len(history) == 2 and all(item.get("result") is None for item in history)

    again = run_retention(TablesDB(make_client(stack)), now=later, tenant=short_id, progress=lines.append)
    # nothing left: a rerun (or a resumed run) purges nothing twice (the calls just above opened new
    # rate-limit windows, which are new rows, not a second purge)
    assert {table: n for table, n in again.purged.items() if not table.endswith("/rate_limits")} == {}


@pytest.mark.slow
def test_a_spent_budget_stops_and_the_next_run_resumes(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rb"))
    consulta_owner = owner
    assert owner.call("billing", "POST", "/grants", {"user_id": owner.user_id, "credits": 500,
                                                     "reason": "retention"}).status == 201
    consulta(consulta_owner)
    later = datetime.now(UTC) + timedelta(days=100)
    tables = TablesDB(make_client(stack))
    stopped = run_retention(tables, now=later, tenant=tenant_id, budget_seconds=0, progress=lambda _m: None)
    assert not stopped.complete and stopped.purged == {}
    resumed = run_retention(tables, now=later, tenant=tenant_id, progress=lambda _m: None)
    assert resumed.complete and resumed.purged[f"{tenant_id}/consultas"] == 1
