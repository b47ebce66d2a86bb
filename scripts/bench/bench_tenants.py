"""What the platform costs as tenants grow: ``invoke bench --only tenants``.

A private stack (source mode) grows to ``BENCH_TENANTS_CHECKPOINTS`` (default 1,25,50,100,200,500)
tenants, every one created through the product (the ``tenants`` function's ``POST /`` and its
asynchronous provisioning, in batches of ``BATCH`` at once). At each checkpoint it prints: ``get_row``
on the first tenant's database, one cadastral consulta by that tenant's analyst, a ``health`` execution
(no API calls), creating one more tenant (POST to ``active``), one relay and one billing schedule run
(API calls made and seconds, every tenant idle), the first query on a new SQLite connection to a
tenant's database file, and the stack's RSS. Target (issue 12): at 500 tenants get_row and a consulta
within 1.5x of their 1-tenant figures, RSS under 500 MB, tenant creation flat.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import httpx
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

from bigtech.schema import provision_core

from .bench_consultas import accept_invitation, body_for, call, expect, user_client
from .support import client_for, private_stack

CHECKPOINTS = [int(n) for n in os.environ.get("BENCH_TENANTS_CHECKPOINTS", "1,25,50,100,200,500").split(",")]
BATCH = 8  # tenants created at once between checkpoints (their provisioning runs concurrently)
SAMPLES = {"get_row": 30, "consulta": 5, "health": 10}


class CallsBy:
    """API calls made with each function's ephemeral key."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def observe(self, request: Any, route: Any, response: Any) -> None:
        caller = getattr(request, "caller", None)
        if caller is not None and caller.kind == "ephemeral":
            with self.lock:
                self.counts[caller.function_id or "?"] = self.counts.get(caller.function_id or "?", 0) + 1

    def take(self, function_id: str) -> int:
        with self.lock:
            return self.counts.pop(function_id, 0)


def median_ms(operation: Any, samples: int) -> float:
    seconds = []
    for _ in range(samples):
        started = time.perf_counter()
        operation()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Grower:
    """Creates tenants through the product and waits until they are provisioned."""

    def __init__(self, stack: Any, admin: Any) -> None:
        self.stack, self.admin, self.count = stack, admin, 0
        self.tables = TablesDB(client_for(stack))

    def post(self) -> str:
        tenant_id = f"grow-{self.count:04d}" if self.count else "bench"
        self.count += 1
        expect(call(self.admin, "tenants", "POST", "/", {
            "id": tenant_id, "name": f"Tenant {self.count}", "owner_email": f"owner-{tenant_id}@bench.example.com",
            "owner_name": "Owner"}), 202)
        return tenant_id

    def wait(self, seconds: float = 600.0) -> None:
        deadline = time.monotonic() + seconds
        while self.tables.list_rows("core", "tenants", [Query.equal("provisioning", ["provisioning"]),
                                                        Query.limit(1)]).total:
            if time.monotonic() > deadline:
                raise RuntimeError("tenants still provisioning")
            time.sleep(0.05)
        failed = self.tables.list_rows("core", "tenants", [Query.equal("provisioning", ["failed"]), Query.limit(1)])
        if failed.total:
            raise RuntimeError(f"{failed.total} tenants failed to provision: {failed.rows[0].data}")

    def grow_to(self, total: int) -> None:
        while self.count < total:
            for _ in range(min(BATCH, total - self.count)):
                self.post()
            self.wait()

    def one(self) -> tuple[str, float]:
        started = time.perf_counter()
        tenant_id = self.post()
        self.wait()
        return tenant_id, time.perf_counter() - started


def schedule(stack: Any, function_id: str) -> None:
    response = httpx.post(f"{stack.endpoint}/local/functions/{function_id}/schedule", timeout=600, headers={
        "x-appwrite-project": stack.settings.project_id, "x-appwrite-key": stack.settings.api_key})
    response.raise_for_status()
    if response.json().get("status") != "completed":
        raise RuntimeError(f"{function_id} schedule: {response.json()}")


def first_query_ms(stack: Any, database_id: str, table_id: str, row_id: str) -> float:
    """A new SQLite connection on the tenant's database file: open, parse the schema, read one row."""
    meta = stack.tablesdb.table(database_id, table_id)
    path = stack.tablesdb.path(meta.file) if meta.file is not None else stack.storage.path
    started = time.perf_counter()
    conn = sqlite3.connect(path)
    try:
        conn.execute(f'SELECT * FROM "{meta.physical}" WHERE _uid = ?', (row_id,)).fetchall()
        return (time.perf_counter() - started) * 1000
    finally:
        conn.close()


def run(report) -> None:  # type: ignore[no-untyped-def]
    with private_stack(sync_timeout_seconds=600.0) as stack:
        key = client_for(stack)
        provision_core(TablesDB(key))
        users = Users(key)
        admin_user = users.create(ID.unique(), email="bench-admin@example.com", password="password-123")
        users.update_labels(admin_user.id, ["admin"])
        admin = user_client(stack, admin_user.id)
        grower = Grower(stack, admin)
        calls = CallsBy()
        stack.dispatcher.observers.append(calls.observe)
        tables, functions = TablesDB(key), Functions(key)
        analyst_id = ""
        analyst = None
        grown_at = time.perf_counter()
        for checkpoint in CHECKPOINTS:
            grower.grow_to(checkpoint - 1)
            _, create_seconds = grower.one()
            step_seconds = time.perf_counter() - grown_at
            if analyst is None:  # the first tenant ("bench"): its owner, one analyst with credits
                owner_id = tables.list_rows("core", "tenants", [Query.equal("$id", ["bench"])]).rows[0].data[
                    "owner_user_id"]
                owner = user_client(stack, owner_id)
                expect(call(owner, "members", "POST", "/", {"email": "analyst@bench.example.com", "role": "analyst"}),
                       201)
                analyst_id = accept_invitation(stack, "analyst@bench.example.com")
                expect(call(owner, "billing", "POST", "/grants",
                            {"user_id": analyst_id, "credits": 1_000_000, "reason": "benchmark"}), 201)
                analyst = user_client(stack, analyst_id)
                expect(call(analyst, "consultas", "POST", "/", body_for("cadastral")), 201)  # warm the imports
                schedule(stack, "relay")
                schedule(stack, "billing")
            print(f"  -- {checkpoint} tenants (this step {step_seconds:.0f} s) --", flush=True)
            report.metric(f"{checkpoint}: growing to here", step_seconds, "s")
            report.metric(f"{checkpoint}: get_row", median_ms(
                lambda row=analyst_id: tables.get_row("tenant_bench", "wallets", row), SAMPLES["get_row"]), "ms")
            report.metric(f"{checkpoint}: one cadastral consulta", median_ms(
                lambda who=analyst: expect(call(who, "consultas", "POST", "/", body_for("cadastral")), 201),
                SAMPLES["consulta"]), "ms")
            report.metric(f"{checkpoint}: health execution", median_ms(
                lambda: functions.create_execution("health", path="/", method=ExecutionMethod.GET),
                SAMPLES["health"]), "ms")
            report.metric(f"{checkpoint}: creating one tenant", create_seconds, "s")
            # billing's first run after a step also seals and anchors the new tenants' audit entries (each
            # marked once when written); the second is what every idle run costs
            for function_id, label in (("relay", "relay"), ("billing", "billing (after the step)"),
                                       ("billing", "billing (idle)")):
                calls.take(function_id)
                started = time.perf_counter()
                schedule(stack, function_id)
                report.metric(f"{checkpoint}: {label} schedule run", time.perf_counter() - started, "s")
                report.metric(f"{checkpoint}: {label} schedule API calls", calls.take(function_id), "calls")
            report.metric(f"{checkpoint}: first query on a new connection", statistics.median(
                first_query_ms(stack, "tenant_bench", "wallets", analyst_id) for _ in range(5)), "ms")
            report.metric(f"{checkpoint}: stack RSS", rss_mb(), "MB")
            report.metric(f"{checkpoint}: pooled idle connections", stack.storage.pool_stats()["idle"], "")
            grown_at = time.perf_counter()


if __name__ == "__main__":
    import sys

    root = Path(__file__).resolve().parents[2]
    sys.path[:0] = [str(root / "shared"), str(root / "scripts")]
    from bench.run import main

    raise SystemExit(main(["--only", "tenants"]))

__all__ = ["run"]
