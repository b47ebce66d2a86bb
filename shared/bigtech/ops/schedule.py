"""The daily run: back up the core and every tenant (incremental, full weekly), then apply the
backup retention policy to each database's backups, within a time budget.

Tenants are taken in a stable order starting after the last one finished (remembered nowhere but in the
store: a tenant backed up less than ``FRESH_HOURS`` ago is skipped), so a run cut short by its budget
resumes where it stopped on the next run instead of starting over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .. import metrics
from ..credits.reaper import tenant_ids
from ..schema.core import CORE_DATABASE_ID
from ..schema.tenant import tenant_database_id
from .backup import backup_core, backup_tenant, list_backups, load_manifest, parse_backup_time
from .files_io import prune_files, referenced_keys
from .rotation import Policy, to_delete
from .store import BackupStore

FRESH_HOURS = 20  # a daily schedule: a backup younger than this counts as today's
DEFAULT_POLICY = Policy()


@dataclass
class RunReport:
    backed_up: list[dict[str, Any]] = field(default_factory=list)
    skipped_fresh: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    complete: bool = True

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _fresh(store: BackupStore, database_id: str, now: datetime) -> bool:
    backups = list_backups(store, database_id)
    return bool(backups) and now - parse_backup_time(backups[-1]) < timedelta(hours=FRESH_HOURS)


def _mark_success(tables: TablesDB, database_id: str, progress: Callable[[str], None]) -> None:
    """The metrics function's backup age comes from this gauge (one upsert), not from listing the bucket."""
    try:
        metrics.set_gauge(tables, metrics.BACKUP_SUCCESS, {"database": database_id}, int(time.time()))
    except AppwriteException as error:  # the backup itself is done; only its age metric is stale
        progress(f"{database_id}: backup age not recorded: {error}")


def run_backups(tables: TablesDB, store: BackupStore, *, tenant: str | None = None, full: bool = False,
                include_core: bool = True, budget_seconds: float | None = None, skip_fresh: bool = False,
                policy: Policy | None = DEFAULT_POLICY, progress: Callable[[str], None] = print) -> RunReport:
    started = time.monotonic()
    now = datetime.now(UTC)
    report = RunReport()
    targets: list[tuple[str, str | None]] = [(tenant_database_id(tenant), tenant)] if tenant else (
        ([(CORE_DATABASE_ID, None)] if include_core else []) + [(tenant_database_id(t), t) for t in tenant_ids(tables)])
    for database_id, tenant_id in targets:
        if budget_seconds is not None and time.monotonic() - started > budget_seconds:
            report.complete = False
            progress(f"time budget of {budget_seconds}s spent; the rest waits for the next run")
            break
        try:
            if skip_fresh and _fresh(store, database_id, now):
                report.skipped_fresh.append(database_id)
                continue
            if tenant_id is None:
                result = backup_core(tables, store, full=full, progress=progress)
            else:
                result = backup_tenant(tables, store, tenant_id, full=full, progress=progress)
            report.backed_up.append(result.to_json())
            _mark_success(tables, database_id, progress)
            if policy is not None:
                deleted = to_delete(list_backups(store, database_id), policy)
                for backup_id in deleted:
                    store.delete_folder(store.key(database_id, backup_id))
                    report.deleted.append(f"{database_id}/{backup_id}")
                    progress(f"{database_id}: backup {backup_id} deleted (retention)")
                if deleted and tenant_id is not None:  # files only deleted backups named go with them
                    kept = [load_manifest(store, database_id, b) for b in list_backups(store, database_id)]
                    pruned = prune_files(store, tenant_id, referenced_keys(kept))
                    progress(f"{database_id}: {pruned} backed-up files no kept backup names deleted")
        except Exception as error:  # one tenant's failure must not stop the others' backups
            report.errors.append(f"{database_id}: {type(error).__name__}: {str(error)[:300]}")
            progress(f"{database_id}: backup FAILED: {error}")
    return report
