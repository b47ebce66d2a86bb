"""``POST /`` with ``x-appwrite-trigger: schedule`` (every 5 minutes, appwrite.json): the reaper.

Releases the credits of consultas that died between reserve and settle and frees their stuck
idempotency keys, in every tenant (``bigtech.credits.reaper``). Appwrite runs the schedule with the
function's key and no user; any execution carrying a user id is refused, exactly like ``POST /events``.
"""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access
from bigtech.credits import reaper
from bigtech.errors import Forbidden
from bigtech.http import Request

REAP_ACTION = "billing.reap"
BUDGET_SECONDS = 20.0  # billing's timeout is 30 s; what is left undone waits for the next run


def run(request: Request) -> Any:
    if request.user_id:
        raise Forbidden("The reaper runs on billing's schedule only.", code="core_only")
    report = reaper.reap_all(appwrite_access.tables(request), budget_seconds=BUDGET_SECONDS)
    request.log.log(f"{report.line()} (trigger={request.trigger})")
    for error in report.errors:
        request.log.error(f"reaper: {error}")
    return report.to_json()


__all__ = ["REAP_ACTION", "run"]
