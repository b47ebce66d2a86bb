"""A local stack running the real `relay` function next to recording subscriber functions, for end-to-end bus tests.

Each world writes its own `appwrite.json` (the relay from `functions/relay`, subscribers from
`tests/fixtures/bus/functions/subscriber`) into a temp folder, starts a stack on it, provisions tenant databases
with the tables the bus uses plus the fixture's `test_effects`/`test_attempts`, and lists the tenants in the core
`tenants` table as `tenants` does. Everything goes through the SDK over HTTP, as a user (or the relay) would.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.bus import EventEnvelope
from bigtech.outbox_writer import OUTBOX_TABLE, outbox_row, pending_marker
from bigtech.schema import provision
from bigtech.schema.core import CORE_DATABASE_ID, OUTBOX_PENDING, OUTBOX_PENDING_TABLE, TENANTS
from bigtech.schema.model import DatabaseSchema, Table, integer, string
from bigtech.schema.tenant import DELIVERIES, OUTBOX, PROCESSED_EVENTS, tenant_database_id
from local_appwrite import LocalAppwrite, StackSettings

REPO = Path(__file__).resolve().parents[2]
RELAY_DIR = REPO / "functions" / "relay"
SUBSCRIBER_DIR = REPO / "tests" / "fixtures" / "bus" / "functions" / "subscriber"
OUTBOX_EVENT = "databases.*.tables.outbox.rows.*.create"

TEST_EFFECTS = Table("test_effects", "Fixture subscriber effects",
                     (string("consumer", 64, required=True), string("event_id", 64, required=True)))
TEST_ATTEMPTS = Table("test_attempts", "Fixture subscriber attempts", (integer("count", default=0),))
BUS_TABLES = DatabaseSchema((OUTBOX, PROCESSED_EVENTS, DELIVERIES, TEST_EFFECTS, TEST_ATTEMPTS))
CORE_TABLES = DatabaseSchema((TENANTS, OUTBOX_PENDING))
BULK_CHUNK = 500  # rows per bulkCreate operation


def function_entry(function_id: str, path: Path, *, events: Sequence[str] = (), schedule: str = "",
                   scopes: Sequence[str] = (), timeout: int = 30, variables: dict[str, str] | None = None
                   ) -> dict[str, Any]:
    return {
        "$id": function_id, "name": function_id, "runtime": "python-3.12", "path": str(path),
        "entrypoint": "src/main.py", "execute": [], "events": list(events), "scopes": list(scopes),
        "schedule": schedule, "timeout": timeout, "enabled": True, "logging": True, "vars": variables or {},
    }


@dataclass
class SubscriberSpec:
    patterns: tuple[str, ...]
    variables: dict[str, str] = field(default_factory=dict)


@dataclass
class RelayWorld:
    stack: LocalAppwrite
    appwrite_json: Path
    subscribers: dict[str, SubscriberSpec]
    tenants: list[str] = field(default_factory=list)

    @property
    def client(self) -> Client:
        return (Client().set_endpoint(self.stack.endpoint).set_project(self.stack.settings.project_id)
                .set_key(self.stack.settings.api_key))

    @property
    def tables(self) -> TablesDB:
        return TablesDB(self.client)

    # -- setup ------------------------------------------------------------------------------------------------
    def add_tenants(self, tenant_ids: Iterable[str]) -> None:
        tables = self.tables
        provision(tables, CORE_DATABASE_ID, "core", CORE_TABLES)
        for tenant in tenant_ids:
            provision(tables, tenant_database_id(tenant), f"tenant {tenant}", BUS_TABLES)
            tables.create_row(CORE_DATABASE_ID, "tenants", tenant, {
                "name": tenant, "status": "active", "team_id": tenant, "database_id": tenant_database_id(tenant)})
            self.tenants.append(tenant)

    def set_variables(self, function_id: str, **variables: str) -> None:
        """Change a function's variables; the stack re-reads appwrite.json when it changes."""
        project = json.loads(self.appwrite_json.read_text())
        for entry in project["functions"]:
            if entry["$id"] == function_id:
                entry["vars"].update(variables)
        self.appwrite_json.write_text(json.dumps(project, indent=2))

    # -- the outbox -------------------------------------------------------------------------------------------
    def stage_in_bulk(self, events: Sequence[EventEnvelope]) -> None:
        """Commit outbox rows in transactions of `bulkCreate` operations: like business transactions, but without
        one row-create event (and so one relay execution) per row — a transaction's bulk operations fire none."""
        by_tenant: dict[str, list[dict[str, Any]]] = {}
        for envelope in events:
            by_tenant.setdefault(envelope.tenant_id, []).append({"$id": envelope.id, **outbox_row(envelope)})
        tables = self.tables
        for tenant, rows in by_tenant.items():
            # With their core pending markers, in the same transaction (as bigtech.outbox_writer.stage_event does).
            markers = [{"$id": row["$id"], **pending_marker(tenant)} for row in rows]
            operations = [
                {"action": "bulkCreate", "databaseId": database, "tableId": table,
                 "data": batch[start:start + BULK_CHUNK]}
                for database, table, batch in ((tenant_database_id(tenant), OUTBOX_TABLE, rows),
                                               (CORE_DATABASE_ID, OUTBOX_PENDING_TABLE, markers))
                for start in range(0, len(batch), BULK_CHUNK)
            ]
            transaction = tables.create_transaction(ttl=60)
            tables.create_operations(transaction.id, operations)
            tables.update_transaction(transaction.id, commit=True)

    def stage_one(self, envelope: EventEnvelope) -> None:
        """A single row create (fires the row-create event the relay subscribes to), after its pending marker."""
        self.tables.create_row(CORE_DATABASE_ID, OUTBOX_PENDING_TABLE, envelope.id, pending_marker(envelope.tenant_id))
        self.tables.create_row(tenant_database_id(envelope.tenant_id), OUTBOX_TABLE, envelope.id,
                               outbox_row(envelope))

    def outbox_statuses(self) -> Counter[str]:
        statuses: Counter[str] = Counter()
        for tenant in self.tenants:
            for status in ("pending", "published", "dead"):
                statuses[status] += int(self.tables.list_rows(tenant_database_id(tenant), OUTBOX_TABLE, [
                    Query.equal("status", status), Query.limit(1)]).total)
        return statuses

    def outbox_rows(self, tenant: str) -> list[dict[str, Any]]:
        return [r.data | {"$id": r.id} for r in self._all(tenant_database_id(tenant), OUTBOX_TABLE)]

    # -- relay runs -------------------------------------------------------------------------------------------
    def run_relay(self, tenant_id: str | None = None, budget: float = 25.0) -> dict[str, Any]:
        """A key-authenticated execution of the relay (trigger `http`), synchronously; its report."""
        body = {"budget": budget} | ({"tenant_id": tenant_id} if tenant_id else {})
        execution = Functions(self.client).create_execution(
            "relay", body=json.dumps(body), xasync=False, path="/", method=ExecutionMethod.POST)
        return self._report(execution.responsebody, execution.logs, execution.responsestatuscode)

    def run_relays_at_once(self, count: int = 2, budget: float = 20.0) -> list[dict[str, Any]]:
        """``count`` relay runs over every tenant, started together; their reports."""
        with ThreadPoolExecutor(count) as pool:
            return list(pool.map(lambda _: self.run_relay(budget=budget), range(count)))

    def run_schedule(self) -> dict[str, Any]:
        """The relay's scheduled run, now (the local stack's `POST /v1/local/functions/{id}/schedule`)."""
        response = httpx.post(f"{self.stack.endpoint}/local/functions/relay/schedule", timeout=120, headers={
            "x-appwrite-project": self.stack.settings.project_id, "x-appwrite-key": self.stack.settings.api_key})
        response.raise_for_status()
        doc = response.json()
        assert doc["trigger"] == "schedule"
        return self._report(doc["responseBody"], doc["logs"], doc["responseStatusCode"])

    def fire_event(self, row: dict[str, Any], wait: float = 70.0) -> dict[str, Any]:
        """The relay's row-create event execution for ``row`` (a raw row, as the event's body), now and
        synchronously — what Appwrite does when a row is created, or when it delivers that event again."""
        from local_appwrite.functions import Invocation

        service = self.stack.functions  # type: ignore[attr-defined]
        invocation = Invocation(service.function("relay"), "event", headers={"content-type": "application/json"},
                                body=json.dumps(row).encode(), event=f"databases.{row['$databaseId']}.tables.outbox"
                                f".rows.{row['$id']}.create")
        doc = service.start(invocation, wait=wait)
        return self._report(doc["responseBody"], doc["logs"], doc["responseStatusCode"])

    def raw_row(self, tenant: str, row_id: str) -> dict[str, Any]:
        """An outbox row as the row-create event carries it (every column, ``$databaseId`` included)."""
        from bigtech.bus.appwrite_rows import list_raw

        [row] = list_raw(self.tables, tenant_database_id(tenant), OUTBOX_TABLE, [Query.equal("$id", [row_id])])
        return row

    def calls_by(self, function_id: str, action: Any) -> tuple[list[str], Any]:
        """The API calls ``function_id`` made (with its execution's key) while ``action`` ran; its result."""
        seen: list[str] = []

        def observe(request: Any, route: Any, response: Any) -> None:  # the dispatcher's observer signature
            caller = getattr(request, "caller", None)
            if caller is not None and caller.kind == "ephemeral" and caller.function_id == function_id:
                seen.append(f"{request.method} {request.path}")

        self.stack.dispatcher.observers.append(observe)
        try:
            result = action()
        finally:
            self.stack.dispatcher.observers.remove(observe)
        return seen, result

    def run_until_quiet(self, *, max_runs: int = 30, budget: float = 25.0) -> list[dict[str, Any]]:
        reports = []
        for _ in range(max_runs):
            report = self.run_relay(budget=budget)
            reports.append(report)
            busy = any(report[k] for k in ("published", "delivered", "duplicates", "failed", "dead_lettered"))
            if report["ok"] and not busy and not report["pending_left"]:
                return reports
        raise AssertionError(f"relay never went quiet: {reports[-3:]}")

    @staticmethod
    def _report(body: str, logs: str, status: int) -> dict[str, Any]:
        report = json.loads(body)
        report["status"] = status
        report["logs"] = logs
        return report

    def relay_executions(self, trigger: str | None = None) -> list[Any]:
        queries = [Query.limit(100)] + ([Query.equal("trigger", trigger)] if trigger else [])
        return Functions(self.client).list_executions("relay", queries).executions

    def wait_for_relay_executions(self, count: int, trigger: str = "event", timeout: float = 30.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while True:
            done = [e for e in self.relay_executions(trigger) if str(getattr(e.status, "value", e.status))
                    in ("completed", "failed")]
            if len(done) >= count or time.monotonic() > deadline:
                return done
            time.sleep(0.1)

    # -- what the subscribers did -----------------------------------------------------------------------------
    def effects(self) -> Counter[tuple[str, str]]:
        """(consumer, event id) → number of effect rows: exactly once in effect means 1 for each."""
        found: Counter[tuple[str, str]] = Counter()
        for tenant in self.tenants:
            for row in self._all(tenant_database_id(tenant), "test_effects"):
                found[(row.data["consumer"], row.data["event_id"])] += 1
        return found

    def effect_rows(self) -> list[Any]:
        return [row for tenant in self.tenants for row in self._all(tenant_database_id(tenant), "test_effects")]

    def attempts(self, consumer: str, event_id: str, tenant: str) -> int:
        from bigtech.bus import processed_row_id

        rows = self.tables.list_rows(tenant_database_id(tenant), "test_attempts", [
            Query.equal("$id", [processed_row_id("attempts:" + consumer, event_id)])]).rows
        return int(rows[0].data["count"]) if rows else 0

    def assert_exactly_once(self, events: Sequence[EventEnvelope], consumers: Iterable[str]) -> None:
        effects = self.effects()
        for consumer in consumers:
            missing = [e.id for e in events if effects[(consumer, e.id)] == 0]
            twice = [e.id for e in events if effects[(consumer, e.id)] > 1]
            assert not missing, f"{consumer}: {len(missing)} of {len(events)} events never applied"
            assert not twice, f"{consumer}: {len(twice)} events applied more than once"

    def _all(self, database: str, table: str) -> list[Any]:
        rows: list[Any] = []
        cursor = None
        while True:
            queries = [Query.limit(100)] + ([Query.cursor_after(cursor)] if cursor else [])
            page = self.tables.list_rows(database, table, queries, total=False).rows
            rows.extend(page)
            if len(page) < 100:
                return rows
            cursor = page[-1].id


@contextmanager
def relay_world(tmp_path: Path, subscribers: dict[str, SubscriberSpec], *, bus: dict[str, str] | None = None,
                relay_events: bool = True, relay_variables: dict[str, str] | None = None) -> Iterator[RelayWorld]:
    """`bus`: the relay's BIGTECH_BUS_* variables (none → direct mode)."""
    from tests.conftest import free_port

    variables = {"BIGTECH_BUS_URL": "direct"} | (bus or {}) | (relay_variables or {})
    variables["BIGTECH_BUS_SUBSCRIBERS"] = json.dumps({name: list(s.patterns) for name, s in subscribers.items()})
    functions = [function_entry(
        "relay", RELAY_DIR, events=[OUTBOX_EVENT] if relay_events else [], schedule="* * * * *", timeout=60,
        scopes=["rows.read", "rows.write", "executions.read", "executions.write", "functions.read"],
        variables=variables)]
    functions += [function_entry(name, SUBSCRIBER_DIR, scopes=["rows.read", "rows.write"], variables=spec.variables)
                  for name, spec in subscribers.items()]
    appwrite_json = tmp_path / "appwrite.json"
    appwrite_json.write_text(json.dumps({"projectId": "bigtech", "functions": functions}, indent=2))
    settings = StackSettings.for_tests(free_port(), appwrite_json=appwrite_json)
    with LocalAppwrite(settings) as stack:
        yield RelayWorld(stack, appwrite_json, dict(subscribers))
