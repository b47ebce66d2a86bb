"""The daily retention run (``bigtech.ops.retention``): old consulta results purged, idempotency keys
and delivery logs expired, each batch audited; within its share of the time budget, resumable."""

from __future__ import annotations

from typing import Any

from appwrite.services.tables_db import TablesDB

from bigtech.http import Request
from bigtech.ops.retention import run_retention


def run(request: Request, tables: TablesDB, budget_seconds: float) -> dict[str, Any]:
    report = run_retention(tables, budget_seconds=budget_seconds, progress=request.log.log)
    for error in report.errors:
        request.log.error(f"retention: {error}")
    return report.to_json()
