"""``POST /`` with ``x-appwrite-trigger: schedule`` (every 5 minutes, appwrite.json): the reaper.

Releases the credits of consultas that died between reserve and settle and frees their stuck
idempotency keys, in every tenant (``bigtech.credits.reaper``); then seals the audit entries left
unsealed by writers whose sealer failed, in the platform trail and every tenant's
(``bigtech.audit.seal_all``), and signs a checkpoint of each chain's head (``bigtech.audit.checkpoint_all``;
without ``BIGTECH_AUDIT_SIGNING_KEY`` it writes none and logs so). Appwrite runs the schedule with the
function's key and no user; any execution carrying a user id is refused, exactly like ``POST /events``.
"""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access
from bigtech.audit import checkpoint_all, seal_all
from bigtech.credits import reaper
from bigtech.errors import Forbidden
from bigtech.http import Request
from bigtech.schema.tenant import tenant_database_id

REAP_ACTION = "billing.reap"
BUDGET_SECONDS = 20.0  # billing's timeout is 30 s; what is left undone waits for the next run


def run(request: Request) -> Any:
    if request.user_id:
        raise Forbidden("The reaper runs on billing's schedule only.", code="core_only")
    tables = appwrite_access.tables(request)
    report = reaper.reap_all(tables, budget_seconds=BUDGET_SECONDS)
    request.log.log(f"{report.line()} (trigger={request.trigger})")
    for error in report.errors:
        request.log.error(f"reaper: {error}")
    databases = [tenant_database_id(t) for t in reaper.tenant_ids(tables)]
    sealing = seal_all(tables, tenant_databases=lambda: databases)
    request.log.log(f"audit sweep: {sealing['sealed']} entries sealed, {len(sealing['errors'])} errors")
    for error in sealing["errors"]:
        request.log.error(f"audit sweep: {error}")
    anchoring = checkpoint_all(tables, tenant_databases=lambda: databases)
    request.log.log(f"audit checkpoints: {anchoring['checkpointed']} written, {len(anchoring['errors'])} errors")
    for error in anchoring["errors"]:
        request.log.error(f"audit checkpoints: {error}")
    return {**report.to_json(), "audit_sealed": sealing["sealed"], "audit_errors": sealing["errors"][:20],
            "audit_checkpointed": anchoring["checkpointed"], "audit_checkpoint_errors": anchoring["errors"][:20]}


__all__ = ["REAP_ACTION", "run"]
