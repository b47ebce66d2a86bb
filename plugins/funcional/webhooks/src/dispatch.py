"""``POST /`` run by the function's one-minute schedule: every tenant's due deliveries.

Appwrite runs a schedule with the function's key and no user; an execution carrying a user id is
refused (like billing's reaper). Tenants come from the core ``tenants`` table, in random order so a run
cut short by its budget does not starve the same ones; only tenants with the plugin enabled are read.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any

from bigtech.appwrite_access import tables as tables_of
from bigtech.credits.reaper import tenant_ids
from bigtech.errors import Forbidden
from bigtech.http import Request

from . import engine

ACTION = "webhooks.dispatch"
BUDGET_VARIABLE = "BIGTECH_WEBHOOK_RUN_BUDGET"
DEFAULT_BUDGET = 25.0  # the function's timeout is 30 s


def budget() -> float:
    try:
        return min(float(os.environ.get(BUDGET_VARIABLE) or DEFAULT_BUDGET), DEFAULT_BUDGET)
    except ValueError:
        return DEFAULT_BUDGET


def run(request: Request) -> Any:
    if request.user_id:
        raise Forbidden("Deliveries run on the function's schedule only.", code="core_only")
    tables = tables_of(request)
    started, total = time.monotonic(), engine.RunReport()
    tenants = tenant_ids(tables)
    random.shuffle(tenants)
    errors: list[str] = []
    for tenant_id in tenants:
        left = budget() - (time.monotonic() - started)
        if left <= 1:
            break
        try:
            config = engine.tenant_config(tables, tenant_id)
            if config is None:
                continue
            report = engine.run_due(tables, tenant_id, config, budget=left)
        except Exception as error:  # one tenant's broken rows must not stop the others' deliveries
            errors.append(f"{tenant_id}: {type(error).__name__}: {error}")
            continue
        total.attempted += report.attempted
        total.succeeded += report.succeeded
        total.failed += report.failed
        total.skipped += report.skipped
    line = (f"webhooks dispatch tenants={len(tenants)} attempted={total.attempted} succeeded={total.succeeded} "
            f"failed={total.failed} skipped={total.skipped} trigger={request.trigger}")
    request.log.log(line)
    for problem in errors:
        request.log.error(f"webhooks dispatch: {problem}")
    return {**total.to_json(), "errors": len(errors)}
