"""Drain one subscriber's quorum queue with `basic_get` inside a time budget (functions are short-lived).

Per message: deliver → ack. On failure the message is returned (`basic_nack(requeue=True)`), which the quorum
queue counts in `x-delivery-count`, and the subscriber is left alone for the rest of the run: quorum queues hand a
returned message straight back, so retrying now would burn the whole delivery limit in milliseconds. The next
relay run (event trigger or the one-minute schedule) is the back-off. On the last allowed attempt the relay
dead-letters the message itself — a copy to the DLX carrying `x-bigtech-error`, then ack — so the reason is kept
next to the message for the ops task. The broker's own delivery limit stays as the safety net.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pika

from .envelope import EventEnvelope
from .errors import InvalidEvent, PublishNotConfirmed
from .publisher import describe
from .subscribers import Subscriber
from .topology import Topology

log = logging.getLogger(__name__)

H_ERROR = "x-bigtech-error"
H_ATTEMPTS = "x-bigtech-attempts"
H_SUBSCRIBER = "x-bigtech-subscriber"
H_FAILED_AT = "x-bigtech-failed-at"
H_REPLAYS = "x-bigtech-replays"
BROKER_HEADERS = ("x-death", "x-first-death-exchange", "x-first-death-queue", "x-first-death-reason",
                  "x-last-death-exchange", "x-last-death-queue", "x-last-death-reason", "x-delivery-count")


@dataclass
class DrainResult:
    delivered: int = 0
    duplicates: int = 0
    failed: int = 0
    dead_lettered: int = 0
    errors: list[str] = field(default_factory=list)
    exhausted: bool = False  # the queue was empty (or the subscriber backed off) before the budget ran out


def delivery_count(properties) -> int:
    """Previous deliveries of this message (RabbitMQ sets `x-delivery-count` on quorum queues)."""
    headers = getattr(properties, "headers", None) or {}
    try:
        return int(headers.get("x-delivery-count") or 0)
    except (TypeError, ValueError):
        return 0


Outcome = tuple[object, BaseException | None]  # (what deliver returned, or the exception it raised)


def deliver_all(subscriber: Subscriber, envelopes: list[EventEnvelope], pool: Executor | None = None
                ) -> list[Outcome]:
    """Hand each envelope to the subscriber — concurrently on `pool` when given — and collect the outcomes in
    order. Only the subscriber call runs on the pool; every broker call stays on the caller's thread (a pika
    channel is not thread-safe)."""

    def one(envelope: EventEnvelope) -> Outcome:
        try:
            return subscriber.deliver(envelope), None
        except Exception as exc:
            return None, exc

    if pool is None or len(envelopes) < 2:
        return [one(e) for e in envelopes]
    return list(pool.map(one, envelopes))


def drain_subscriber(
    channel,
    topology: Topology,
    subscriber: Subscriber,
    *,
    deadline: float,
    max_messages: int | None = None,
    result: DrainResult | None = None,
    window: int = 1,
    pool: Executor | None = None,
) -> DrainResult:
    """Deliver messages from the subscriber's queue until it is empty, it failed, `max_messages` were taken, or
    `deadline` (time.monotonic) passes. Messages are taken `window` at a time and delivered concurrently on `pool`
    (then acked/returned in order). Broker errors propagate (the caller maps them to BusUnavailable); pass
    `result` to keep the counts of what happened before such an error."""
    result = result if result is not None else DrainResult()
    queue = topology.queue(subscriber.name)
    taken = 0
    while time.monotonic() < deadline and (max_messages is None or taken < max_messages):
        want = max(1, window) if max_messages is None else min(max(1, window), max_messages - taken)
        batch = []
        for _ in range(want):
            method, properties, body = channel.basic_get(queue, auto_ack=False)
            if method is None:
                result.exhausted = True
                break
            batch.append((method, properties, body))
        taken += len(batch)
        parsed = []
        for method, properties, body in batch:
            try:
                parsed.append((method, properties, body, EventEnvelope.from_amqp(body, properties)))
            except InvalidEvent as exc:
                attempt = delivery_count(properties) + 1
                _dead_letter(channel, topology, subscriber.name, body, properties, describe(exc), attempt)
                channel.basic_ack(method.delivery_tag)
                result.dead_lettered += 1
                result.errors.append(f"{subscriber.name}: {exc}")
        outcomes = deliver_all(subscriber, [item[3] for item in parsed], pool)
        backed_off = False
        for (method, properties, body, envelope), (outcome, error) in zip(parsed, outcomes, strict=True):
            attempt = delivery_count(properties) + 1
            if error is not None:
                reason = describe(error)
                result.errors.append(f"{subscriber.name} {envelope.id} attempt {attempt}: {reason}")
                if attempt >= topology.delivery_limit:
                    _dead_letter(channel, topology, subscriber.name, body, properties, reason, attempt)
                    channel.basic_ack(method.delivery_tag)
                    result.dead_lettered += 1
                    log.warning("dead-lettered %s for %s after %d attempts: %s", envelope.id, subscriber.name,
                                attempt, reason)
                    continue  # the head of the queue moved on; keep going
                channel.basic_nack(method.delivery_tag, requeue=True)
                result.failed += 1
                backed_off = True  # back off: the next run retries
                continue
            channel.basic_ack(method.delivery_tag)
            if outcome is False:
                result.duplicates += 1
            else:
                result.delivered += 1
        if backed_off:
            result.exhausted = True
        if result.exhausted:
            return result
    return result


def _dead_letter(channel, topology: Topology, subscriber: str, body: bytes, properties, reason: str,
                 attempt: int) -> None:
    headers = {k: v for k, v in (getattr(properties, "headers", None) or {}).items() if k not in BROKER_HEADERS}
    headers.update({
        H_ERROR: reason[:1000],
        H_ATTEMPTS: attempt,
        H_SUBSCRIBER: subscriber,
        H_FAILED_AT: datetime.now(UTC).isoformat(),
    })
    props = pika.BasicProperties(
        content_type=getattr(properties, "content_type", None),
        delivery_mode=2,
        message_id=getattr(properties, "message_id", None),
        type=getattr(properties, "type", None),
        timestamp=getattr(properties, "timestamp", None),
        headers=headers,
    )
    try:
        channel.basic_publish(topology.dead_letter_exchange, subscriber, body, props, mandatory=True)
    except (pika.exceptions.UnroutableError, pika.exceptions.NackError) as exc:
        # Not safely in the DLQ: leave the original unacked so it returns to its queue (the broker's delivery
        # limit will dead-letter it natively if this keeps happening).
        raise PublishNotConfirmed(f"dead-letter of {getattr(properties, 'message_id', '?')} not confirmed") from exc
