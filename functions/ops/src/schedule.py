"""``POST /`` with ``x-appwrite-trigger: schedule`` (daily, appwrite.json): the operations run.

Appwrite runs the schedule with the function's key and no user; any execution carrying a user id is
refused (``core_only``), like billing's reaper. Each job gets its share of the time budget.
"""

from __future__ import annotations

import time
from typing import Any

from bigtech import appwrite_access
from bigtech.errors import Forbidden
from bigtech.http import Request

from . import backups, retention

RUN_ACTION = "ops.run"
BUDGET_SECONDS = 600.0  # ops' timeout is 900 s (Appwrite's maximum); the rest is the margin
RETENTION_SHARE = 0.25  # of the budget; backups get the rest (retention runs first: it is short and bounded)


def run(request: Request) -> Any:
    if request.user_id:
        raise Forbidden("Operations run on the ops schedule only.", code="core_only")
    started = time.monotonic()
    tables = appwrite_access.tables(request)
    result: dict[str, Any] = {"trigger": request.trigger}
    result["retention"] = retention.run(request, tables, BUDGET_SECONDS * RETENTION_SHARE)
    result["backup"] = backups.run(request, tables, BUDGET_SECONDS - (time.monotonic() - started))
    result["seconds"] = round(time.monotonic() - started, 3)
    return result


__all__ = ["RUN_ACTION", "run"]
