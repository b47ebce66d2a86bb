"""funcional-relatorios over 100 000 seeded consultas: time and Appwrite calls of the usage report and the
consultas CSV export, on a private local stack (docs/funcional.md, issue 15).

The consultas are seeded with bulk ``create_rows`` (1 000 per call) straight into the tenant's table, as
the consultas function would have left them; the report is then run through the executions API as the
tenant's owner, like a browser would.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.tables_db import TablesDB

from .bench_consultas import call, expect, setup
from .support import client_for, private_stack

CONSULTAS = 100_000
BATCH = 1_000
CATEGORIES = ("cadastral", "credito", "veicular")
STATUSES = ("succeeded", "not_found", "failed")


class Calls:
    """Appwrite API calls made by one function (its ephemeral key), counted at the stack."""

    def __init__(self, function_id: str) -> None:
        self.function_id = function_id
        self.lock = threading.Lock()
        self.count: Counter[str] = Counter()

    def observe(self, request: Any, route: Any, response: Any) -> None:
        caller = getattr(request, "caller", None)
        if caller is not None and caller.kind == "ephemeral" and caller.function_id == self.function_id:
            with self.lock:
                self.count["calls"] += 1

    def take(self) -> int:
        with self.lock:
            value, self.count["calls"] = self.count["calls"], 0
            return value


def seed(tables: TablesDB, database_id: str, users: list[str]) -> float:
    started = time.perf_counter()
    rng = random.Random(15)
    for first in range(0, CONSULTAS, BATCH):
        rows = []
        for _ in range(min(BATCH, CONSULTAS - first)):
            status = rng.choice(STATUSES)
            rows.append({"$id": ID.unique(), "user_id": rng.choice(users), "category": rng.choice(CATEGORIES),
                         "status": status, "purpose": "benchmark", "legal_basis": "consentimento",
                         "cost": 0 if status == "failed" else rng.choice((1, 2, 3)), "plugin_id": "consulta-cadastral",
                         "input_masked": json.dumps({"document": "***.456.789-**"})})
        tables.create_rows(database_id, "consultas", rows)
    return time.perf_counter() - started


def run(report) -> None:  # type: ignore[no-untyped-def]
    with private_stack() as stack:
        owner, analysts = setup(stack)
        key = client_for(stack)
        counting = Calls("funcional-relatorios")
        stack.dispatcher.observers.append(counting.observe)
        tables = TablesDB(key)
        _sync_catalog(stack)
        expect(call(owner, "plugins", "PUT", "/funcional-relatorios", {"enabled": True, "config": {}}), 200)
        users = [owner_id(owner, stack)] + [owner_id(a, stack) for a in analysts[:3]]
        report.metric("seed 100k consultas (bulk create_rows)", seed(tables, "tenant_bench", users), "s")
        today = time.strftime("%Y-%m-%d", time.gmtime())
        # the asynchronous job: chunks of 20 s, each a new execution, until the report is stored
        counting.take()
        started = time.perf_counter()
        job = expect(call(owner, "funcional-relatorios", "POST", "/jobs/usage",
                          {"from": today, "to": today, "group_by": "day"}), 202)["job"]
        while True:
            status, body = call_raw(owner, f"/jobs/{job['id']}", "GET")
            if status != 200 or body["job"]["status"] in ("done", "failed") or time.perf_counter() - started > 900:
                break
            time.sleep(1)
        if status != 200 or body["job"]["status"] != "done":
            raise RuntimeError(f"usage job: HTTP {status} {str(body)[:300]}")
        report.metric(f"usage job (day): time over {CONSULTAS:,} consultas", time.perf_counter() - started, "s")
        report.metric("usage job: executions (chunks)", body["job"]["runs"], "runs")
        report.metric("usage job: Appwrite calls", counting.take(), "calls")
        report.metric("usage job: consultas counted", body["job"]["result"]["totals"]["count"], "rows")
        # the synchronous routes over the same volume (Appwrite gives up on a sync execution after 30 s)
        for name, path in (("usage by member (sync)", f"/usage?from={today}&to={today}&group_by=member"),
                           ("consultas CSV export (sync)", f"/exports/consultas.csv?from={today}&to={today}")):
            counting.take()
            started = time.perf_counter()
            try:
                status, body = call_raw(owner, path)
            except AppwriteException as error:
                report.metric(f"{name}: gave up (HTTP {error.code}) after", time.perf_counter() - started, "s")
                time.sleep(60)  # let the abandoned execution finish before the next measure
                continue
            report.metric(f"{name}: time", time.perf_counter() - started, "s")
            report.metric(f"{name}: Appwrite calls", counting.take(), "calls")


def call_raw(client: Any, path: str, method: str = "GET") -> tuple[int, Any]:
    from appwrite.enums.execution_method import ExecutionMethod
    from appwrite.services.functions import Functions

    execution = Functions(client).create_execution("funcional-relatorios", body="", xasync=False, path=path,
                                                   method=ExecutionMethod(method))
    text = execution.responsebody or ""
    try:
        return int(execution.responsestatuscode), json.loads(text)
    except ValueError:
        return int(execution.responsestatuscode), text


def owner_id(client: Any, stack: Any) -> str:
    return str(expect(call(client, "auth", "GET", "/me"), 200)["user"]["id"])


def _sync_catalog(stack: Any) -> None:
    from appwrite.services.users import Users

    from .bench_consultas import user_client

    users = Users(client_for(stack))
    admin = next(u for u in users.list().users if "admin" in (u.labels or []))
    expect(call(user_client(stack, admin.id), "plugins", "POST", "/catalog/sync"), 200)
