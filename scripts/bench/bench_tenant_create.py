"""Creating tenants in a row: how long each synchronous ``POST /`` takes, and the asynchronous provisioning.

``invoke bench --only tenant_create``. A private stack; a platform admin creates ``TENANTS`` tenants one
after the other through the ``tenants`` function. ``POST /`` answers 202 ``provisioning`` after a handful
of API calls; an asynchronous execution of the function provisions the tenant (one ``create_table`` per
table, team, owner, default plugins and packages) and turns it ``active``. Target (issue 10): no
synchronous execution past 5 s.

``BENCH_MODE=build`` runs the built functions under the one-at-a-time runtime (one instance each), as on
Appwrite: the ``provisioning`` runs queue on their own instance while ``tenants`` answers the admin.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

from bigtech.schema import provision_core

from .support import client_for, private_stack

TENANTS = int(os.environ.get("BENCH_TENANTS", "50"))
SYNC_TARGET_SECONDS = 5.0


class TenantsCalls:
    """API calls made with the tenants and provisioning functions' ephemeral keys."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0

    def observe(self, request: Any, route: Any, response: Any) -> None:
        caller = getattr(request, "caller", None)
        if caller is not None and caller.kind == "ephemeral" and caller.function_id in {"tenants", "provisioning"}:
            with self.lock:
                self.count += 1


def stack_options() -> dict[str, Any]:
    if os.environ.get("BENCH_MODE", "source") != "build":
        return {}
    import tempfile
    from pathlib import Path

    import build_functions

    build_dir = Path(tempfile.mkdtemp(prefix="bigtech-bench-build-")) / "functions"
    build_functions.build(build_dir, log=lambda line: None)
    return {"functions_mode": "build", "build_dir": build_dir}


def run(report) -> None:  # type: ignore[no-untyped-def]
    options = stack_options()
    report.metric(f"mode {options.get('functions_mode', 'source')}, instances per function", 1, "")
    with private_stack(**options) as stack:
        key = client_for(stack)
        provision_core(TablesDB(key))
        users = Users(key)
        admin = users.create(ID.unique(), email="bench-admin@example.com", password="password-123")
        users.update_labels(admin.id, ["admin"])
        jwt = users.create_jwt(admin.id, duration=3600).jwt
        as_admin = Functions(key.__class__().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
                             .set_jwt(jwt))
        began = time.perf_counter()  # the first execution starts the worker (cold start, build mode): apart
        as_admin.create_execution("tenants", path="/?limit=1", method=ExecutionMethod.GET)
        report.metric("first tenants execution (cold start)", time.perf_counter() - began, "s")
        calls = TenantsCalls()
        stack.dispatcher.observers.append(calls.observe)

        sync_seconds: list[float] = []
        started = time.perf_counter()
        for n in range(TENANTS):
            body = {"id": f"bench-{n:03d}", "name": f"Bench {n}", "owner_email": f"owner{n}@bench.example.com",
                    "owner_name": "Owner"}
            began = time.perf_counter()
            execution = as_admin.create_execution("tenants", body=json.dumps(body), xasync=False, path="/",
                                                  method=ExecutionMethod.POST)
            sync_seconds.append(time.perf_counter() - began)
            assert execution.responsestatuscode == 202, execution.responsebody
        created = time.perf_counter() - started
        tables = TablesDB(key)
        while True:  # every tenant provisioned (or failed)
            rows = tables.list_rows("core", "tenants", [Query.equal("provisioning", ["provisioning"]),
                                                        Query.limit(1)])
            if rows.total == 0:
                break
            time.sleep(0.25)
        all_active = time.perf_counter() - started
        failed = tables.list_rows("core", "tenants", [Query.equal("provisioning", ["failed"]), Query.limit(1)]).total
        runs = Functions(key).list_executions("provisioning", [Query.limit(100)]).executions

        report.timings(f"POST / (sync, {TENANTS} in a row)", sync_seconds)
        report.metric("POST / slowest", max(sync_seconds), "s")
        report.metric(f"POST / over {SYNC_TARGET_SECONDS:.0f} s", sum(s > SYNC_TARGET_SECONDS for s in sync_seconds),
                      "executions")
        report.metric(f"{TENANTS} tenants: all POSTs answered", created, "s")
        report.metric(f"{TENANTS} tenants: all active", all_active, "s")
        report.metric("provisioning runs failed", failed, "tenants")
        if runs:
            durations = sorted(e.duration for e in runs)
            report.metric("provisioning run (async) mean", sum(durations) / len(durations), "s")
            report.metric("provisioning run (async) slowest", durations[-1], "s")
        report.metric("tenants function API calls per tenant (create + provision)", calls.count / TENANTS, "calls")


if __name__ == "__main__":
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(root / "shared"), str(root / "scripts")]
    from bench.run import main

    raise SystemExit(main(["--only", "tenant_create"]))
