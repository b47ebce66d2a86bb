"""The relay: move pending outbox rows to their subscribers, over RabbitMQ or (embedded default) directly.

AMQP mode, per run: connect (fail before touching the outbox if the broker is down) → declare the topology →
claim pending rows in batches, publish a batch and wait for all its confirms, mark the confirmed ones published,
release the rest →
drain every subscriber's queue round-robin until the budget runs out. Direct mode claims the same rows and calls
the subscribers itself, with a `DeliveryStore` doing the attempt counting and dead-lettering the queue would do.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .claims import OutboxRow, OutboxStatus, OutboxStore
from .config import BUS_URL_ENV, bus_url_from_env  # noqa: F401 - re-exported (bigtech.bus API)
from .deliveries import DeliveryRecord, DeliveryStatus, DeliveryStore, InMemoryDeliveryStore
from .drain import DrainResult, drain_subscriber
from .errors import BusError, BusUnavailable, PublishNotConfirmed
from .publisher import DEFAULT_CONNECT_TIMEOUT, BatchPublisher, BusConnection, describe
from .subscribers import Subscriber
from .topology import Topology

log = logging.getLogger(__name__)

MAX_ERRORS_KEPT = 20


@dataclass
class RelayReport:
    mode: str
    tenant_id: str | None
    published: int = 0  # rows marked published (AMQP: confirmed; direct: handed to every matching subscriber)
    unroutable: int = 0  # confirmed but no subscriber binds the type
    delivered: int = 0
    duplicates: int = 0  # delivered, but the subscriber had already applied it
    failed: int = 0  # deliveries returned for a later retry
    dead_lettered: int = 0
    pending_left: int | None = None
    elapsed: float = 0.0
    publish_elapsed: float = 0.0  # AMQP: seconds spent claiming, publishing with confirms and marking rows
    error: str | None = None  # set when the run stopped early (e.g. broker unavailable)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def line(self) -> str:
        """One line for the execution log."""
        parts = [
            f"relay mode={self.mode}",
            f"tenant={self.tenant_id or '*'}",
            f"published={self.published}",
            f"unroutable={self.unroutable}",
            f"delivered={self.delivered}",
            f"duplicates={self.duplicates}",
            f"failed={self.failed}",
            f"dead_lettered={self.dead_lettered}",
        ]
        if self.pending_left is not None:
            parts.append(f"pending_left={self.pending_left}")
        parts.append(f"elapsed={self.elapsed:.3f}s")
        parts.append("ok" if self.ok else f"error={self.error!r}")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        """The relay execution's response body."""
        return {
            "ok": self.ok, "mode": self.mode, "tenant_id": self.tenant_id, "published": self.published,
            "unroutable": self.unroutable, "delivered": self.delivered, "duplicates": self.duplicates,
            "failed": self.failed, "dead_lettered": self.dead_lettered, "pending_left": self.pending_left,
            "elapsed": round(self.elapsed, 3), "publish_elapsed": round(self.publish_elapsed, 3),
            "error": self.error, "errors": self.errors,
        }

    def note(self, message: str) -> None:
        if len(self.errors) < MAX_ERRORS_KEPT:
            self.errors.append(message)


class Relay:
    def __init__(
        self,
        outbox: OutboxStore,
        subscribers: Sequence[Subscriber],
        bus_url: str | None = None,
        *,
        topology: Topology | None = None,
        deliveries: DeliveryStore | None = None,
        batch_size: int = 200,
        lease_seconds: float = 60.0,
        publish_share: float = 0.5,
        drain_chunk: int = 50,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        concurrency: int = 1,
    ) -> None:
        names = [s.name for s in subscribers]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate subscriber names: {names}")
        self.outbox = outbox
        self.subscribers = list(subscribers)
        self.bus_url = bus_url
        self.topology = topology or Topology()
        # Direct mode keeps its bookkeeping here; with Appwrite pass the TablesDB-backed store.
        self.deliveries = deliveries if deliveries is not None else InMemoryDeliveryStore()
        self.batch_size = batch_size
        self.lease_seconds = lease_seconds
        self.publish_share = publish_share  # share of the budget after which no new batch is claimed
        self.drain_chunk = drain_chunk
        self.connect_timeout = connect_timeout
        # Deliveries in flight at once (subscriber executions are network calls); 1 = strictly one by one.
        self.concurrency = max(1, concurrency)
        self._pool: ThreadPoolExecutor | None = None

    @property
    def mode(self) -> str:
        return "amqp" if self.bus_url else "direct"

    def run(
        self, tenant_id: str | None = None, budget_seconds: float = 20.0, *, publish: bool = True, drain: bool = True,
        count_pending: bool = True,
    ) -> RelayReport:
        """One relay run. Never raises for bus/subscriber trouble: the report says what happened.

        `publish=False` / `drain=False` run one half only (AMQP mode), e.g. a publish-only run on the row-create
        trigger while the schedule drains; direct mode always does both. `count_pending=False` leaves
        `pending_left` unknown (None): the count is informational and costs a call per tenant."""
        started = time.monotonic()
        report = RelayReport(mode=self.mode, tenant_id=tenant_id)
        deadline = started + budget_seconds
        pool = ThreadPoolExecutor(self.concurrency, "relay-deliver") if self.concurrency > 1 else None
        self._pool = pool
        try:
            if self.bus_url:
                self._run_amqp(report, tenant_id, started, deadline, publish=publish, drain=drain)
            else:
                self._run_direct(report, tenant_id, deadline)
        except BusError as exc:
            report.error = describe(exc)
            log.warning("relay run stopped: %s", report.error)
        finally:
            self._pool = None
            if pool is not None:
                pool.shutdown(wait=True)
        report.elapsed = time.monotonic() - started
        if not count_pending:
            return report
        try:
            report.pending_left = self.outbox.count(tenant_id, OutboxStatus.PENDING)
        except Exception:  # counting is informational only
            report.pending_left = None
        return report

    # -- AMQP ----------------------------------------------------------------------------------------------------
    def _run_amqp(
        self, report: RelayReport, tenant_id: str | None, started: float, deadline: float, *, publish: bool,
        drain: bool,
    ) -> None:
        assert self.bus_url is not None
        share = self.publish_share if drain else 1.0
        publish_deadline = started + (deadline - started) * share
        with BusConnection(self.bus_url, timeout=self.connect_timeout) as bus:
            self.topology.declare(bus.channel, self.subscribers)
            publisher = BatchPublisher(bus.connection, self.topology.exchange)
            token = uuid.uuid4().hex
            publishing = time.monotonic()
            try:
                while publish and time.monotonic() < publish_deadline:
                    rows = self.outbox.claim_pending(tenant_id, self.batch_size, token, self.lease_seconds)
                    if not rows:
                        break
                    self._publish_batch(publisher, rows, token, report)
                    if len(rows) < self.batch_size:
                        break
            finally:
                report.publish_elapsed = time.monotonic() - publishing
            if drain:
                self._drain_all(bus.channel, report, deadline)

    def _publish_batch(self, publisher: BatchPublisher, rows: list[OutboxRow], token: str, report: RelayReport):
        outcome = publisher.publish([row.envelope for row in rows])
        report.unroutable += len(outcome.unroutable)
        # Keep what the broker confirmed; give the rest back (still pending, attempt counted) and stop the run.
        report.published += self.outbox.mark_published(outcome.confirmed, token)
        failed = [*outcome.nacked, *outcome.unsettled]
        if not failed:
            return
        error: BusError = (BusUnavailable(f"publish failed: {describe(outcome.error)}") if outcome.error is not None
                           else PublishNotConfirmed(f"broker nacked {len(outcome.nacked)} event(s)"))
        self.outbox.release(failed, token, describe(error))
        raise error

    def _drain_all(self, channel, report: RelayReport, deadline: float) -> None:
        active = list(self.subscribers)
        while active and time.monotonic() < deadline:
            still_active = []
            for subscriber in active:
                result = DrainResult()
                try:
                    drain_subscriber(channel, self.topology, subscriber, deadline=deadline,
                                     max_messages=self.drain_chunk, result=result, window=self.concurrency,
                                     pool=self._pool)
                finally:  # count what was delivered even when the connection broke mid-drain
                    report.delivered += result.delivered
                    report.duplicates += result.duplicates
                    report.failed += result.failed
                    report.dead_lettered += result.dead_lettered
                    for message in result.errors:
                        report.note(message)
                if not result.exhausted:
                    still_active.append(subscriber)
            active = still_active

    # -- direct --------------------------------------------------------------------------------------------------
    def _run_direct(self, report: RelayReport, tenant_id: str | None, deadline: float) -> None:
        token = uuid.uuid4().hex
        backed_off: set[str] = set()  # subscribers that failed this run wait for the next one (like AMQP mode)
        held: list[str] = []  # rows still needed by a backed-off subscriber: kept leased until the run ends
        try:
            while time.monotonic() < deadline:
                rows = self.outbox.claim_pending(tenant_id, self.batch_size, token, self.lease_seconds)
                if not rows:
                    return
                # One look-up per batch: what each subscriber already has (delivered, failed before, dead). A row
                # claimed for the first time cannot have records yet: a batch of only those needs no look-up.
                held_before = [r.envelope for r in rows if not r.fresh]
                known = self.deliveries.lookup([s.name for s in self.subscribers], held_before) if held_before else {}
                done: list[str] = []
                for start in range(0, len(rows), self.concurrency):
                    if time.monotonic() >= deadline:
                        held.extend(r.id for r in rows[start:])
                        break
                    window = rows[start:start + self.concurrency]
                    for row, complete in zip(window, self._deliver_direct(window, known, backed_off, report),
                                             strict=True):
                        (done if complete else held).append(row.id)
                report.published += self.outbox.mark_published(done, token)
                if len(rows) < self.batch_size:
                    return
        finally:
            self.outbox.release(held, token)

    def _deliver_direct(
        self, rows: list[OutboxRow], known: dict[tuple[str, str], DeliveryRecord], backed_off: set[str],
        report: RelayReport,
    ) -> list[bool]:
        """Deliver each row to every matching subscriber that still needs it (concurrently when the relay has a
        pool); for each row, True when none of them still needs it.

        Successes are written to the delivery store only when the row needs bookkeeping anyway (some subscriber
        failed or is dead-lettered, or the row stays pending): a row every subscriber took at once costs no
        writes beyond the subscribers' own dedupe markers."""
        tasks: list[tuple[int, Subscriber]] = []
        troubled = [False] * len(rows)
        for index, row in enumerate(rows):
            matching = self._matching(row.envelope.type)
            if not matching:
                report.unroutable += 1
            for subscriber in matching:
                record = known.get((subscriber.name, row.id))
                if record is not None:
                    troubled[index] = True
                    if record.status in (DeliveryStatus.DELIVERED, DeliveryStatus.DEAD):
                        continue
                tasks.append((index, subscriber))

        def attempt(task: tuple[int, Subscriber]) -> tuple[object, BaseException | None, bool]:
            index, subscriber = task
            if subscriber.name in backed_off:
                return None, None, False  # not attempted: it failed earlier in this run
            try:
                return subscriber.deliver(rows[index].envelope), None, True
            except Exception as exc:
                record = known.get((subscriber.name, rows[index].id))
                if (record.attempts if record else 0) + 1 < self.topology.delivery_limit:
                    backed_off.add(subscriber.name)  # a retry is due: leave this subscriber alone until next run
                return None, exc, True

        pool = self._pool
        outcomes = list(pool.map(attempt, tasks)) if pool is not None and len(tasks) > 1 else [
            attempt(t) for t in tasks]
        complete = [True] * len(rows)
        applied: list[list[str]] = [[] for _ in rows]
        for (index, subscriber), (outcome, error, attempted) in zip(tasks, outcomes, strict=True):
            envelope = rows[index].envelope
            if not attempted:
                complete[index] = False
                continue
            if error is not None:
                troubled[index] = True
                reason = describe(error)
                record = self.deliveries.record_failure(subscriber.name, envelope, reason,
                                                        self.topology.delivery_limit)
                report.note(f"{subscriber.name} {envelope.id} attempt {record.attempts}: {reason}")
                if record.status is DeliveryStatus.DEAD:
                    report.dead_lettered += 1
                else:
                    report.failed += 1
                    complete[index] = False
                continue
            applied[index].append(subscriber.name)
            if outcome is False:
                report.duplicates += 1
            else:
                report.delivered += 1
        for index, row in enumerate(rows):
            if troubled[index] or not complete[index]:
                for name in applied[index]:
                    self.deliveries.record_success(name, row.envelope)
        return complete

    def _matching(self, event_type: str) -> list[Subscriber]:
        return [s for s in self.subscribers if s.matches(event_type)]
