"""Core-database restore drill on the local stack: the core (tenants, settings, plugin catalogue, API-key
index, platform audit and every chain's signed checkpoints, the migrations ledger) is backed up to moto
S3, checked with a dry run that writes nothing, deleted, restored, and reads back identical — the
platform works again (tenants listed, members signed in, the platform trail verifies)."""

from __future__ import annotations

import pytest
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.ops.backup import CORE_BACKUP_SCHEMA, backup_core
from bigtech.ops.restore import RestoreRefused, restore_core
from bigtech.ops.tables_io import read_rows
from bigtech.schema.migrations import ensure_ledger, migrate
from tests.conftest import make_client
from tests.support.actors import create_tenant, platform_admin, tenant_id_for

# rows any execution may add meanwhile (counters, relay markers): compared by presence of the schema only
MOVING = {"metrics", "outbox_pending"}


def snapshot(tables: TablesDB) -> dict[str, list[dict]]:
    return {table.id: list(read_rows(tables, "core", table.id))
            for table in CORE_BACKUP_SCHEMA.tables if table.id not in MOVING}


def test_core_backup_dry_run_destroy_restore_reads_back_identical(stack, store):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("core"))
    tables = TablesDB(make_client(stack))
    ensure_ledger(tables)  # as invoke bootstrap leaves a project
    migrate(tables, only=[tenant_id])
    live = {t.id for t in tables.list_tables("core", [Query.limit(100)]).tables}
    assert live <= {t.id for t in CORE_BACKUP_SCHEMA.tables}, "a core table the backup would not save"

    before = snapshot(tables)
    assert any(row["$id"] == tenant_id for row in before["tenants"]) and before["platform_audit"]
    assert before["audit_checkpoints"] and tenant_id in [row["$id"] for row in before["schema_migrations"]]
    backup = backup_core(tables, store, full=True)
    assert backup.tables["tenants"] == len(before["tenants"])

    lines: list[str] = []
    dry = restore_core(tables, store, dry_run=True, progress=lines.append)
    assert dry.dry_run and dry.audit["signatures"] == "verified"
    assert dry.current["tenants"] == dry.tables["tenants"] == len(before["tenants"])
    assert any("would hold" in line for line in lines) and "nothing written" in lines[-1]
    with pytest.raises(RestoreRefused, match="exists"):
        restore_core(tables, store)  # no confirmation: the live core is never replaced silently

    tables.delete("core")
    with pytest.raises(AppwriteException):
        tables.get("core")
    report = restore_core(tables, store, progress=lines.append)
    print(f"core restore: {report.rows} rows, {report.seconds} s, {report.appwrite_calls} Appwrite calls, "
          f"{report.s3_calls} S3 calls")
    assert snapshot(tables) == before
    assert report.audit["verify"]["ok"], report.audit

    listed = admin.call("tenants", "GET", "/?limit=100")
    assert listed.status == 200 and tenant_id in {item["id"] for item in listed.body["items"]}
    me = owner.call("auth", "GET", "/me")
    assert me.status == 200 and me.body["tenant"]["id"] == tenant_id
    verify = admin.call("audit", "GET", "/platform/verify")
    assert verify.status == 200 and verify.body["ok"], verify.body


def test_the_restore_command_dry_runs_the_core_and_refuses_with_exit_code_2(stack, store, monkeypatch, capsys):
    """``invoke restore --core --dry-run`` runs ``python -m bigtech.ops``: the same code, named by APPWRITE_*."""
    from bigtech.ops.__main__ import main
    from tests.ops.conftest import BUCKET

    platform_admin(stack)
    for name, value in {"APPWRITE_ENDPOINT": stack.endpoint, "APPWRITE_PROJECT_ID": stack.settings.project_id,
                        "APPWRITE_API_KEY": stack.settings.api_key, "BIGTECH_BACKUP_BUCKET": BUCKET,
                        "BIGTECH_BACKUP_PREFIX": "drill"}.items():
        monkeypatch.setenv(name, value)
    assert main(["restore", "--core", "--dry-run"]) == 2  # nothing backed up yet
    assert "restore refused: no backup of core in the store" in capsys.readouterr().err
    backup_core(TablesDB(make_client(stack)), store, full=True)
    assert main(["restore", "--core", "--dry-run"]) == 0
    out = capsys.readouterr()
    assert '"dry_run": true' in out.out and "nothing written" in out.err
