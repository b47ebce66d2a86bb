"""Backup retention (7 daily, 4 weekly, 12 monthly) and the store's settings, without a stack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bigtech.ops.backup import stamp
from bigtech.ops.rotation import Policy, to_delete, to_keep
from bigtech.ops.store import BackupStoreMissing, StoreSettings


def daily_backups(days: int, full_every: int = 7) -> list[str]:
    start = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    return [f"{stamp(start + timedelta(days=d))}-{'full' if d % full_every == 0 else 'incr'}" for d in range(days)]


def test_a_year_of_dailies_keeps_7_daily_4_weekly_12_monthly_and_their_chains():
    backups = daily_backups(400)
    keep = to_keep(backups)
    assert backups[-7:] == [b for b in backups[-7:] if b in keep]  # the last 7 days
    for kept in keep:  # every kept incremental can still be restored: its chain back to a full is kept
        if kept.endswith("-incr"):
            index = backups.index(kept)
            back = index
            while not backups[back].endswith("-full"):
                back -= 1
                assert backups[back] in keep
    months = {b[:6] for b in keep}
    assert len(months) >= 12
    assert len(keep) < 100 and set(to_delete(backups)) == set(backups) - keep


def test_a_short_history_is_kept_whole_and_zero_policies_keep_the_latest():
    backups = daily_backups(5)
    assert to_delete(backups) == []
    assert to_keep(backups, Policy(0, 0, 0)) >= {backups[-1]}


def test_store_settings_come_from_the_environment():
    settings = StoreSettings.from_env({"BIGTECH_BACKUP_BUCKET": "b", "BIGTECH_BACKUP_PREFIX": "/p/",
                                       "BIGTECH_S3_ENDPOINT_URL": ""})
    assert (settings.bucket, settings.prefix, settings.endpoint_url) == ("b", "p", None)
    with pytest.raises(BackupStoreMissing):
        StoreSettings.from_env({})
