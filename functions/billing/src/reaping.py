"""``POST /`` with ``x-appwrite-trigger: schedule`` (every 5 minutes, appwrite.json): the reaper.

Releases the credits of consultas that died between reserve and settle and frees their stuck
idempotency keys (``bigtech.credits.reaper.reap_marked``); then seals the audit entries left unsealed
by writers whose sealer failed and signs a checkpoint of each chain's head (``bigtech.audit.sweep``;
without ``BIGTECH_AUDIT_SIGNING_KEY`` it writes none and logs so). Both visit only the tenants whose
``work_pending`` markers say they have work (``bigtech.sweeps``), so a run over idle tenants is a few
calls whatever their number, and both stop at their time budget (what is left keeps its markers).
Appwrite runs the schedule with the function's key and no user; any execution carrying a user id is
refused, exactly like ``POST /events``.
"""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access
from bigtech.audit.sweep import sweep_marked
from bigtech.credits import reaper
from bigtech.errors import Forbidden
from bigtech.http import Request
from bigtech.sweeps import Budget

from .access import REAP_ACTION

BUDGET_SECONDS = 20.0  # billing's timeout is 30 s; what is left undone waits for the next run
REAP_SHARE = 0.5  # the reaper may use half; the audit sweep the rest (and what the reaper left)


def run(request: Request) -> Any:
    if request.user_id:
        raise Forbidden("The reaper runs on billing's schedule only.", code="core_only")
    tables = appwrite_access.tables(request)
    budget = Budget(BUDGET_SECONDS)
    report = reaper.reap_marked(tables, budget_seconds=BUDGET_SECONDS * REAP_SHARE)
    request.log.log(f"{report.line()} (trigger={request.trigger})")
    for error in report.errors:
        request.log.error(f"reaper: {error}")
    audit = sweep_marked(tables, budget)
    request.log.log(f"audit sweep: {audit.sealed} entries sealed over {audit.trails} trails, {len(audit.errors)} "
                    f"errors{'' if audit.complete else ', stopped at the time budget'}")
    for error in audit.errors:
        request.log.error(f"audit sweep: {error}")
    request.log.log(f"audit checkpoints: {audit.checkpointed} written, {len(audit.checkpoint_errors)} errors")
    for error in audit.checkpoint_errors:
        request.log.error(f"audit checkpoints: {error}")
    return {**report.to_json(), **audit.to_json()}


__all__ = ["REAP_ACTION", "run"]
