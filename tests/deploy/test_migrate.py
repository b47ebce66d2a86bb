"""``invoke migrate``: tenant schema migrations are versioned per tenant, idempotent and resumable."""

from __future__ import annotations

import os

import pytest
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB

from bigtech.schema import migrations
from bigtech.schema.migrations import LEDGER, Migration, applied, migrate
from bigtech.schema.provision import provision_core


@pytest.fixture
def tables(client) -> TablesDB:
    tables = TablesDB(client)
    provision_core(tables)
    return tables


def add_tenant(tables: TablesDB) -> str:
    tenant_id = f"mig{os.urandom(3).hex()}"
    tables.create_row("core", "tenants", tenant_id, {"name": tenant_id, "status": "active", "team_id": tenant_id,
                                                       "database_id": f"tenant_{tenant_id}"})
    return tenant_id


def test_a_new_tenant_database_is_brought_to_the_latest_version_once(tables):
    tenant_id = add_tenant(tables)
    [first] = migrate(tables, only=[tenant_id], say=lambda _line: None)
    assert (first.from_version, first.to_version, first.applied) == (0, migrations.LATEST, [1, 2])
    assert {t.id for t in tables.list_tables(f"tenant_{tenant_id}").tables} >= {"consultas", "outbox", "documents"}
    bucket = Storage(tables.client).get_bucket(f"tenant-{tenant_id}")  # v2: the tenant's private bucket
    assert (bucket.filesecurity, bucket.permissions, bucket.encryption) == (True, [], True)
    [again] = migrate(tables, only=[tenant_id], say=lambda _line: None)
    assert not again.applied and not again.reprovisioned and applied(tables, tenant_id)[0] == migrations.LATEST


def test_a_failed_step_is_recorded_up_to_where_it_got_and_the_rerun_resumes(tables, monkeypatch):
    tenant_id = add_tenant(tables)
    calls: list[int] = []

    def flaky(_tables, _tenant):
        calls.append(2)
        if len(calls) == 1:
            raise RuntimeError("connection lost half-way")

    latest = migrations.LATEST
    steps = (*migrations.MIGRATIONS, Migration(latest + 1, "a data fix", flaky),
             Migration(latest + 2, "another", lambda t, i: None))
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    lines: list[str] = []
    [failed] = migrate(tables, only=[tenant_id], say=lines.append)
    assert failed.error and applied(tables, tenant_id)[0] == latest  # steps up to latest kept, the next not
    assert "rerun invoke migrate" in lines[-1]
    [resumed] = migrate(tables, only=[tenant_id], say=lines.append)
    assert resumed.applied == [latest + 1, latest + 2] and applied(tables, tenant_id)[0] == latest + 2
    assert calls == [2, 2]


def test_a_changed_declaration_reprovisions_tenants_already_at_the_latest_version(tables, monkeypatch):
    tenant_id = add_tenant(tables)
    migrate(tables, only=[tenant_id], say=lambda _line: None)
    monkeypatch.setattr(migrations, "schema_hash", lambda *_: "a-newer-declaration")
    [result] = migrate(tables, only=[tenant_id], say=lambda _line: None)
    assert result.reprovisioned and not result.applied
    assert tables.get_row("core", LEDGER.id, tenant_id).data["schema_hash"] == "a-newer-declaration"


def test_dry_run_changes_nothing(tables):
    tenant_id = add_tenant(tables)
    [result] = migrate(tables, only=[tenant_id], dry_run=True, say=lambda _line: None)
    assert result.applied == [1, 2] and applied(tables, tenant_id) == (0, "")
    # the dry run made no database: take the bare tenant row away again, so the session's other tests
    # (backups, retention, reports over every tenant) do not meet a tenant without a database
    tables.delete_row("core", "tenants", tenant_id)
