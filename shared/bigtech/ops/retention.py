"""Data retention (LGPD art. 15–16, minimisation): purge what is no longer needed, keep what must stay.

Per tenant, with the platform's defaults (``settings`` row ``platform``) and the tenant's overrides
(``tenants.settings``):

- **consulta results** older than ``result_retention_days``: the ``result`` column (the personal data
  returned by the sources) is cleared; the row keeps the masked input, the keyed document hash, cost,
  purpose, legal basis, category, sources and status — the record that the processing happened, which
  the data subject may ask about (art. 18–19) and the tenant must account for;
- **idempotency keys** older than ``idempotency_retention_days`` and **delivery logs** (relay deliveries
  that succeeded, outgoing webhook attempts) older than ``delivery_log_retention_days`` are deleted;
  rate-limit windows older than a day too;
- **files** (Appwrite Storage, docs/storage.md): a consulta's **source receipts** (the source's own page
  about the person) go with its result, after ``result_retention_days`` (files deleted, links cleared);
  **stored documents** (receipt PDFs, statements, CSV exports: ``documents`` rows) after
  ``document_retention_days`` (default 30; a receipt is generated again on demand): file and row deleted;
- **the audit trail and the ledger are never touched here**: they are kept for ``retention_days``
  (legal and accounting obligations, art. 16 I).

Each batch is one transaction together with an audit entry ``retention.purged`` naming the table, the
rows and the cutoff, so the trail shows every purge and the chain still verifies. The run stops when its
time budget is spent; what is left still matches the queries and is picked up by the next run (resumable).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.query import Query
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB

from .. import platform_settings
from ..audit import AuditTrail
from ..audited import Actor, commit_change
from ..credits.reaper import tenant_ids
from ..schema.tenant import tenant_database_id
from ..storage import delete_file
from ..tenancy import find_tenant

ACTOR = Actor("system:retention", "system")
BATCH = 80  # rows changed per transaction (plus the audit entry: under Appwrite's 100 operations)
RATE_LIMIT_DAYS = 1
DOCUMENT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class Policy:
    result_days: int
    idempotency_days: int
    delivery_log_days: int
    document_days: int = DOCUMENT_RETENTION_DAYS

    def to_json(self) -> dict[str, int]:
        return {"result_days": self.result_days, "idempotency_days": self.idempotency_days,
                "delivery_log_days": self.delivery_log_days, "document_days": self.document_days}


@dataclass
class RetentionReport:
    purged: dict[str, int] = field(default_factory=dict)  # "tenant/table" → rows
    errors: list[str] = field(default_factory=list)
    complete: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"purged": self.purged, "errors": self.errors, "complete": self.complete}


def policy_for(settings: platform_settings.PlatformSettings, tenant_settings: dict[str, Any]) -> Policy:
    def pick(name: str, default: int) -> int:
        value = tenant_settings.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else default

    return Policy(pick("result_retention_days", settings.result_retention_days),
                  pick("idempotency_retention_days", settings.idempotency_retention_days),
                  pick("delivery_log_retention_days", settings.delivery_log_retention_days),
                  pick("document_retention_days", DOCUMENT_RETENTION_DAYS))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


# table, what to do, extra filters, which policy field gives the age
Job = tuple[str, str, Callable[[], list[str]], str]
# the columns naming a row's files in the tenant's bucket, per action that deletes them
FILE_COLUMNS = {"clear_receipts": "source_receipts", "delete_documents": "file_id"}


def _jobs() -> list[Job]:
    return [
        ("consultas", "clear_result", lambda: [Query.is_not_null("result"), Query.not_equal("status", "pending")],
         "result_days"),
        ("consultas", "clear_receipts", lambda: [Query.is_not_null("source_receipts")], "result_days"),
        ("documents", "delete_documents", lambda: [], "document_days"),
        ("idempotency", "delete", lambda: [], "idempotency_days"),
        ("deliveries", "delete", lambda: [Query.equal("status", "delivered")], "delivery_log_days"),
        ("webhook_deliveries", "delete", lambda: [], "delivery_log_days"),
        ("rate_limits", "delete", lambda: [], "rate_limit_days"),
    ]


WHAT = {"clear_result": "result cleared", "clear_receipts": "source receipts deleted",
        "delete_documents": "documents and their files deleted"}


def delete_files(storage: Storage, tenant_id: str, rows: list[Any], column: str) -> int:
    """Delete the files ``rows`` name (a link list or one file id); one call per file, a gone one is fine."""
    deleted = 0
    for row in rows:
        value = row.data.get(column)
        if column == "source_receipts":
            try:
                links = json.loads(value or "[]")
            except ValueError:
                links = []
            file_ids = [link.get("file_id") for link in links if isinstance(link, dict)]
        else:
            file_ids = [value]
        for file_id in file_ids:
            if isinstance(file_id, str) and file_id:
                deleted += delete_file(storage, tenant_id, file_id)
    return deleted


def purge_tenant(tables: TablesDB, tenant_id: str, policy: Policy, *, now: datetime | None = None,
                 deadline: float | None = None) -> tuple[dict[str, int], bool]:
    """Purge one tenant; returns rows per table and whether it finished before ``deadline``."""
    database_id = tenant_database_id(tenant_id)
    trail = AuditTrail.tenant(database_id)
    moment = now or datetime.now(UTC)
    days = {**policy.to_json(), "rate_limit_days": RATE_LIMIT_DAYS}
    done: dict[str, int] = {}
    for table_id, action, filters, age in _jobs():
        cutoff = _iso(moment - timedelta(days=days[age]))
        while True:
            if deadline is not None and time.monotonic() > deadline:
                return done, False
            columns = ["$id", *([FILE_COLUMNS[action]] if action in FILE_COLUMNS else [])]
            rows = tables.list_rows(database_id, table_id, [*filters(), Query.less_than("$createdAt", cutoff),
                                                            Query.select(columns), Query.limit(BATCH)],
                                    total=False).rows
            if not rows:
                break
            ids = [row.id for row in rows]
            if action in FILE_COLUMNS:  # the files first: a crash before the commit leaves rows the rerun redoes
                files = delete_files(Storage(tables.client), tenant_id, rows, FILE_COLUMNS[action])
                done["files"] = done.get("files", 0) + files

            def stage(unit: Any, ids: list[str] = ids, table_id: str = table_id, action: str = action) -> None:
                for row_id in ids:
                    if action == "clear_result":
                        unit.update(database_id, table_id, row_id, {"result": None})
                    elif action == "clear_receipts":
                        unit.update(database_id, table_id, row_id, {"source_receipts": None})
                    else:
                        unit.delete(database_id, table_id, row_id)

            commit_change(tables, trail, ACTOR, action="retention.purged", resource=("table", table_id),
                          details={"rows": len(ids), "cutoff": cutoff, "days": days[age],
                                   "what": WHAT.get(action, "deleted")},
                          stage=stage)
            done[table_id] = done.get(table_id, 0) + len(ids)
            if len(rows) < BATCH:
                break
    return done, True


def run_retention(tables: TablesDB, *, budget_seconds: float | None = None, tenant: str | None = None,
                  now: datetime | None = None, progress: Callable[[str], None] = print) -> RetentionReport:
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    settings, _ = platform_settings.load(tables)
    report = RetentionReport()
    for tenant_id in [tenant] if tenant else tenant_ids(tables):
        try:
            found = find_tenant(tables, tenant_id)
            policy = policy_for(settings, found.settings if found else {})
            done, finished = purge_tenant(tables, tenant_id, policy, now=now, deadline=deadline)
        except Exception as error:  # one tenant's failure must not stop the others
            report.errors.append(f"{tenant_id}: {type(error).__name__}: {str(error)[:300]}")
            progress(f"retention {tenant_id}: FAILED: {error}")
            continue
        for table_id, count in done.items():
            report.purged[f"{tenant_id}/{table_id}"] = count
            progress(f"retention {tenant_id}: {table_id} {count} rows purged")
        if not finished:
            report.complete = False
            progress("retention: time budget spent; the next run continues")
            break
    return report
