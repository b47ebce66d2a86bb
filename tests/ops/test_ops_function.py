"""The ops function on the local stack: its daily schedule backs up the core and every tenant to (moto)
S3, skips what is already backed up today (a run cut short resumes), and refuses users."""

from __future__ import annotations

import pytest

from bigtech.ops.backup import list_backups
from tests.ops.conftest import BUCKET
from tests.support.actors import call, create_tenant, platform_admin, tenant_id_for


@pytest.fixture
def configured(store, monkeypatch):
    monkeypatch.setenv("BIGTECH_BACKUP_BUCKET", BUCKET)
    monkeypatch.setenv("BIGTECH_BACKUP_PREFIX", "drill")
    monkeypatch.delenv("BIGTECH_S3_ENDPOINT_URL", raising=False)
    return store


@pytest.mark.slow
def test_the_schedule_backs_up_core_and_tenants_then_skips_fresh_ones(stack, configured):
    admin = platform_admin(stack)
    tenant_id, _owner = create_tenant(stack, admin, tenant_id_for("ops"))
    first = call(stack, None, "ops", "POST", "/", headers={"x-appwrite-trigger": "schedule"})
    assert first.status == 200, first
    backup = first.body["backup"]
    assert backup["configured"] and not backup["errors"], backup
    assert first.body["retention"]["complete"] and not first.body["retention"]["errors"]
    saved = {item["database_id"] for item in backup["backed_up"]}
    assert {"core", f"tenant_{tenant_id}"} <= saved
    assert list_backups(configured, f"tenant_{tenant_id}")
    again = call(stack, None, "ops", "POST", "/").body["backup"]
    assert f"tenant_{tenant_id}" in again["skipped_fresh"] and not again["backed_up"]


def test_users_cannot_run_operations_and_a_missing_bucket_is_reported(stack, store, monkeypatch):
    admin = platform_admin(stack)
    refused = admin.call("ops", "POST", "/")  # the schedule's route: key-only, even for a platform admin
    assert refused.status == 403 and refused.error_code == "core_only"
    monkeypatch.delenv("BIGTECH_BACKUP_BUCKET", raising=False)
    result = call(stack, None, "ops", "POST", "/")
    assert result.status == 200 and result.body["backup"]["configured"] is False
