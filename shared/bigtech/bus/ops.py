"""Operations: queue depths, dead letters (with the reason each one died), and replaying them.

`AmqpOps` looks at the broker; `DirectOps` at the direct-mode bookkeeping. Both expose `status`, `dead_letters`
and `replay`, so the ops task (`invoke bus-status` / `bus-replay`, or `python -m bigtech.bus`) is the same in
both modes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pika
import pika.exceptions
from appwrite.exception import AppwriteException

from .claims import OutboxStatus, OutboxStore
from .config import BUS_URL_ENV, BusConfig, bus_url_from_env
from .deliveries import DeliveryStore
from .drain import BROKER_HEADERS, H_ATTEMPTS, H_ERROR, H_FAILED_AT, H_REPLAYS, H_SUBSCRIBER
from .envelope import EventEnvelope
from .errors import BusError, InvalidEvent, PublishNotConfirmed
from .publisher import BusConnection
from .topology import Topology

SUBSCRIBERS_ENV = "BIGTECH_BUS_SUBSCRIBERS"  # the relay's extra subscribers: {function id: [patterns]}


@dataclass(frozen=True)
class QueueStatus:
    subscriber: str
    queue: str
    ready: int | None  # None: the queue does not exist (yet)
    consumers: int | None
    dead_letter_queue: str
    dead_letters: int | None

    def line(self) -> str:
        def show(value: int | None) -> str:
            return "-" if value is None else str(value)

        return f"{self.subscriber:<24} ready={show(self.ready):>6} dead={show(self.dead_letters):>6}  {self.queue}"


@dataclass(frozen=True)
class DeadLetter:
    subscriber: str
    event_id: str | None
    type: str | None
    tenant_id: str | None
    reason: str
    attempts: int | None
    failed_at: str | None

    def line(self) -> str:
        return (f"{self.subscriber} {self.event_id} type={self.type} tenant={self.tenant_id} "
                f"attempts={self.attempts} at={self.failed_at} reason={self.reason}")


def dead_letter_reason(headers: dict[str, Any]) -> str:
    """Our own reason when the relay dead-lettered it, else what the broker recorded in `x-death`."""
    if headers.get(H_ERROR):
        return str(headers[H_ERROR])
    deaths = headers.get("x-death") or []
    if deaths:
        first = deaths[0]
        return f"broker: {first.get('reason')} in {first.get('queue')} (count {first.get('count')})"
    return str(headers.get("x-first-death-reason") or "unknown")


class AmqpOps:
    def __init__(self, bus_url: str, topology: Topology | None = None, *, timeout: float = 5.0) -> None:
        self.bus_url = bus_url
        self.topology = topology or Topology()
        self.timeout = timeout

    def _depth(self, bus: BusConnection, queue: str) -> tuple[int | None, int | None]:
        assert bus.connection is not None
        channel = bus.connection.channel()
        try:
            frame = channel.queue_declare(queue, passive=True)
        except pika.exceptions.ChannelClosedByBroker as exc:
            if exc.reply_code == 404:
                return None, None
            raise
        channel.close()
        return frame.method.message_count, frame.method.consumer_count

    def status(self, subscribers: Iterable[str]) -> list[QueueStatus]:
        out = []
        with BusConnection(self.bus_url, timeout=self.timeout) as bus:
            for name in subscribers:
                ready, consumers = self._depth(bus, self.topology.queue(name))
                dead, _ = self._depth(bus, self.topology.dead_letter_queue(name))
                out.append(QueueStatus(name, self.topology.queue(name), ready, consumers,
                                       self.topology.dead_letter_queue(name), dead))
        return out

    def dead_letters(self, subscriber: str, limit: int = 100) -> list[DeadLetter]:
        """Browse without consuming: get up to `limit`, then return them all to the (classic) DLQ in place."""
        found: list[DeadLetter] = []
        queue = self.topology.dead_letter_queue(subscriber)
        with BusConnection(self.bus_url, timeout=self.timeout) as bus:
            channel = bus.channel
            last_tag = None
            for _ in range(limit):
                method, properties, body = channel.basic_get(queue, auto_ack=False)
                if method is None:
                    break
                last_tag = method.delivery_tag
                found.append(_describe_dead_letter(subscriber, properties, body))
            if last_tag is not None:
                channel.basic_nack(last_tag, multiple=True, requeue=True)
        return found

    def replay(self, subscriber: str, limit: int | None = None) -> int:
        """Move dead letters back to the subscriber's queue (only that subscriber: the others already got them).
        Each is republished with a confirm before it is acked off the DLQ, so a crash can duplicate (the
        consumer dedupes) but never lose one. Only what was there at the start is moved."""
        queue = self.topology.dead_letter_queue(subscriber)
        moved = 0
        with BusConnection(self.bus_url, timeout=self.timeout) as bus:
            channel = bus.channel
            waiting = channel.queue_declare(queue, passive=True).method.message_count
            todo = waiting if limit is None else min(waiting, limit)
            for _ in range(todo):
                method, properties, body = channel.basic_get(queue, auto_ack=False)
                if method is None:
                    break
                headers = {k: v for k, v in (properties.headers or {}).items()
                           if k not in BROKER_HEADERS and not k.startswith("x-bigtech-")}
                old = properties.headers or {}
                headers[H_REPLAYS] = int(old.get(H_REPLAYS) or 0) + 1
                headers["x-bigtech-last-error"] = dead_letter_reason(old)[:1000]
                props = pika.BasicProperties(
                    content_type=properties.content_type,
                    delivery_mode=2,
                    message_id=properties.message_id,
                    type=properties.type,
                    timestamp=properties.timestamp,
                    headers=headers,
                )
                try:
                    channel.basic_publish("", self.topology.queue(subscriber), body, props, mandatory=True)
                except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
                    raise PublishNotConfirmed(f"replay to {self.topology.queue(subscriber)} not confirmed") from exc
                channel.basic_ack(method.delivery_tag)
                moved += 1
        return moved


def _describe_dead_letter(subscriber: str, properties, body: bytes) -> DeadLetter:
    headers = properties.headers or {}
    try:
        envelope: EventEnvelope | None = EventEnvelope.from_json(body)
    except InvalidEvent:
        envelope = None
    attempts = headers.get(H_ATTEMPTS)
    if attempts is None and headers.get("x-death"):
        attempts = headers["x-death"][0].get("count")
    failed_at = headers.get(H_FAILED_AT)
    if failed_at is None and headers.get("x-death"):
        failed_at = str(headers["x-death"][0].get("time"))
    return DeadLetter(
        subscriber=str(headers.get(H_SUBSCRIBER) or subscriber),
        event_id=envelope.id if envelope else properties.message_id,
        type=envelope.type if envelope else properties.type,
        tenant_id=envelope.tenant_id if envelope else headers.get("tenant_id"),
        reason=dead_letter_reason(headers),
        attempts=int(attempts) if attempts is not None else None,
        failed_at=str(failed_at) if failed_at is not None else None,
    )


class DirectOps:
    """The same operations over the direct-mode bookkeeping (no broker)."""

    def __init__(self, deliveries: DeliveryStore, outbox: OutboxStore) -> None:
        self.deliveries = deliveries
        self.outbox = outbox

    def status(self, subscribers: Iterable[str]) -> list[QueueStatus]:
        pending = self.outbox.count(None, OutboxStatus.PENDING)  # one shared "queue": the pending rows
        return [QueueStatus(name, "outbox(pending)", pending, None, "deliveries(dead)",
                            len(self.deliveries.dead_letters(name))) for name in subscribers]

    def dead_letters(self, subscriber: str, limit: int = 100) -> list[DeadLetter]:
        return [
            DeadLetter(r.subscriber, r.event_id, r.envelope.type, r.envelope.tenant_id, r.last_error or "unknown",
                       r.attempts, str(r.updated_at))
            for r in self.deliveries.dead_letters(subscriber)[:limit]
        ]

    def replay(self, subscriber: str, limit: int | None = None) -> int:
        dead = self.deliveries.dead_letters(subscriber)
        ids = [r.event_id for r in (dead if limit is None else dead[:limit])]
        revived = self.deliveries.revive(subscriber, ids)
        self.outbox.reopen([r.event_id for r in revived])  # the next relay run delivers them again
        return len(revived)


def render_status(statuses: Sequence[QueueStatus], dead: dict[str, list[DeadLetter]]) -> str:
    lines = [s.line() for s in statuses]
    for letters in dead.values():
        for letter in letters:
            lines.append("  dead: " + letter.line())
    return "\n".join(lines)


def direct_ops(endpoint: str, project: str, key: str) -> DirectOps:
    """`DirectOps` over the tenants' TablesDB tables (direct mode), with an API key (rows.read/rows.write)."""
    from appwrite.client import Client
    from appwrite.services.tables_db import TablesDB

    from ..schema.core import CORE_DATABASE_ID
    from .appwrite_claims import TablesOutboxStore
    from .appwrite_deliveries import TablesDeliveryStore
    from .appwrite_rows import all_ids

    tables = TablesDB(Client().set_endpoint(endpoint).set_project(project).set_key(key))

    def tenants() -> list[str]:
        try:
            return all_ids(tables, CORE_DATABASE_ID, "tenants")
        except AppwriteException as error:
            if error.code == 404:
                return []
            raise

    from .pending import PendingMarkers

    return DirectOps(TablesDeliveryStore(tables, tenants), TablesOutboxStore(tables, tenants,
                                                                             markers=PendingMarkers(tables)))


def _subscriber_names(given: Sequence[str]) -> list[str]:
    if given:
        return list(given)
    raw = os.environ.get(SUBSCRIBERS_ENV, "").strip()
    try:
        return sorted(json.loads(raw)) if raw else []
    except ValueError:
        return []


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m bigtech.bus status [sub...]` / `python -m bigtech.bus replay sub...` (`invoke bus-status`,
    `invoke bus-replay`). Over RabbitMQ when BIGTECH_BUS_URL is set, else over the direct-mode `deliveries` tables
    of every tenant, reached with APPWRITE_ENDPOINT / APPWRITE_PROJECT_ID / APPWRITE_API_KEY."""
    config = BusConfig.from_env()
    parser = argparse.ArgumentParser(prog="bigtech.bus")
    parser.add_argument("command", choices=["status", "replay"])
    parser.add_argument("subscribers", nargs="*", help=f"subscriber (function) ids; default: the keys of "
                                                       f"{SUBSCRIBERS_ENV}")
    parser.add_argument("--url", default=config.url, help="RabbitMQ URL (default BIGTECH_BUS_URL; 'direct' = none)")
    parser.add_argument("--exchange", default=config.exchange)
    parser.add_argument("--prefix", default=config.queue_prefix)
    parser.add_argument("--limit", type=int, default=None, help="replay at most this many per subscriber")
    parser.add_argument("--endpoint", default=os.environ.get("APPWRITE_ENDPOINT", "http://127.0.0.1:8080/v1"))
    parser.add_argument("--project", default=os.environ.get("APPWRITE_PROJECT_ID", "bigtech"))
    parser.add_argument("--key", default=os.environ.get("APPWRITE_API_KEY", ""))
    args = parser.parse_args(argv)
    names = _subscriber_names(args.subscribers)
    if not names:
        print(f"name the subscribers (or set {SUBSCRIBERS_ENV})", file=sys.stderr)
        return 2
    url = bus_url_from_env({BUS_URL_ENV: args.url or ""})
    ops: AmqpOps | DirectOps
    if url:
        ops = AmqpOps(url, Topology(exchange=args.exchange, queue_prefix=args.prefix))
        where = f"RabbitMQ exchange {args.exchange}"
    else:
        if not args.key:
            print("direct mode: set APPWRITE_API_KEY (or --key) to read the deliveries tables", file=sys.stderr)
            return 2
        ops = direct_ops(args.endpoint, args.project, args.key)
        where = f"direct mode (deliveries tables at {args.endpoint})"
    try:
        if args.command == "status":
            statuses = ops.status(names)
            dead = {s.subscriber: ops.dead_letters(s.subscriber) for s in statuses if s.dead_letters}
            print(f"# {where}")
            print(render_status(statuses, dead))
        else:
            for name in names:
                print(f"{name}: replayed {ops.replay(name, args.limit)}")
    except BusError as exc:
        print(f"bus unavailable: {exc}", file=sys.stderr)
        return 1
    except AppwriteException as exc:  # direct mode: the Appwrite endpoint refused or is not running
        print(f"Appwrite unavailable at {args.endpoint}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
