"""The daily backup: the core and every tenant to S3 (``bigtech.ops``), then the retention policy.

Runs in the schedule's execution with the function's key. A run that hits its time budget stops
between databases; the next run skips what is already backed up today and continues (resumable).
Without ``BIGTECH_BACKUP_BUCKET`` nothing is backed up and the run says so (an error line in the log,
``backup.configured: false`` in the result), so a missing setting is visible rather than silent.
"""

from __future__ import annotations

from typing import Any

from appwrite.services.tables_db import TablesDB

from bigtech.http import Request
from bigtech.ops.schedule import run_backups
from bigtech.ops.store import BackupStore, BackupStoreMissing


def run(request: Request, tables: TablesDB, budget_seconds: float) -> dict[str, Any]:
    try:
        store = BackupStore.from_env()
    except BackupStoreMissing as missing:
        request.log.error(f"backup: {missing}")
        return {"configured": False, "reason": str(missing)}
    report = run_backups(tables, store, budget_seconds=budget_seconds, skip_fresh=True, progress=request.log.log)
    for error in report.errors:
        request.log.error(f"backup: {error}")
    return {"configured": True, **report.to_json()}
