"""Test doubles for the event bus: recording subscribers (with dedupe and scripted failures) and event makers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable

from bigtech.bus import EventEnvelope, InMemoryProcessedEvents, Relay, RelayReport, Subscriber, idempotent

TENANTS = ("tenant-a", "tenant-b", "tenant-c")
TYPES = ("payment.confirmed", "payment.failed", "order.created", "credits.granted", "consulta.completed",
         "tenant.created")


def make_events(count: int, tenants: Iterable[str] = TENANTS, types: Iterable[str] = TYPES) -> list[EventEnvelope]:
    tenants, types = list(tenants), list(types)
    return [
        EventEnvelope(type=types[i % len(types)], tenant_id=tenants[i % len(tenants)], actor="test",
                      data={"n": i})
        for i in range(count)
    ]


class RecordingSubscriber:
    """A subscriber whose handler records effects. `calls` counts raw deliveries (duplicates included),
    `applied` counts effects after dedupe — "exactly once in effect" means applied[id] == 1 for every id.

    `fail_first`: fail the first N raw attempts of each event. `fail_always`: fail every attempt while True.
    `on_call(n)`: hook run on the n-th raw call (before handling), e.g. to cut the broker connection.
    """

    def __init__(self, name: str, patterns: Iterable[str], *, fail_first: int = 0, fail_always: bool = False,
                 processed: InMemoryProcessedEvents | None = None,
                 on_call: Callable[[int], None] | None = None) -> None:
        self.name = name
        self.patterns = tuple(patterns)
        self.fail_first = fail_first
        self.fail_always = fail_always
        self.processed = processed or InMemoryProcessedEvents()
        self.on_call = on_call
        self.calls: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()
        self.handled_at: dict[str, float] = {}
        self._lock = threading.Lock()
        self._attempts: Counter[str] = Counter()
        self._deliver = idempotent(name, self.processed, self._handle)

    @property
    def subscriber(self) -> Subscriber:
        return Subscriber(self.name, self.patterns, self.deliver)

    def deliver(self, envelope: EventEnvelope) -> bool:
        with self._lock:
            self.calls[envelope.id] += 1
            total = sum(self.calls.values())
        if self.on_call is not None:
            self.on_call(total)
        return self._deliver(envelope)

    def _handle(self, envelope: EventEnvelope) -> None:
        with self._lock:
            self._attempts[envelope.id] += 1
            attempt = self._attempts[envelope.id]
        if self.fail_always:
            raise RuntimeError(f"boom: {self.name} refuses {envelope.id}")
        if attempt <= self.fail_first:
            raise RuntimeError(f"flaky: {self.name} attempt {attempt} of {envelope.id}")
        with self._lock:
            self.applied[envelope.id] += 1
            self.handled_at[envelope.id] = time.monotonic()

    def assert_exactly_once(self, events: Iterable[EventEnvelope]) -> None:
        ids = [e.id for e in events]
        missing = [i for i in ids if self.applied[i] == 0]
        twice = [i for i in ids if self.applied[i] > 1]
        assert not missing, f"{self.name}: {len(missing)} events never applied"
        assert not twice, f"{self.name}: {len(twice)} events applied more than once"
        assert set(self.applied) <= set(ids), f"{self.name}: applied unexpected events"


def run_until_quiet(relay: Relay, *, max_runs: int = 20, budget: float = 10.0,
                    tenant_id: str | None = None) -> list[RelayReport]:
    """Run the relay until a run had nothing left to do (no pending rows, nothing delivered or failing)."""
    reports = []
    for _ in range(max_runs):
        report = relay.run(tenant_id, budget_seconds=budget)
        reports.append(report)
        idle = (report.ok and report.published == 0 and report.delivered == 0 and report.duplicates == 0
                and report.failed == 0 and report.dead_lettered == 0 and not report.pending_left)
        if idle:
            return reports
    raise AssertionError(f"relay never went quiet: {[r.line() for r in reports[-3:]]}")
