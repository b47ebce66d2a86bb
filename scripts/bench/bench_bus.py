"""Event-bus benchmark against the real RabbitMQ: relay publish rate with confirms vs a plain pika
publish-with-confirms loop (same run, same broker, same queue type), and outbox → subscriber latency.

`run(report)` is called by the bench runner (`report.metric(name, value, unit)`, or any such callable). Standalone:
`python scripts/bench/bench_bus.py`. Uses BIGTECH_BUS_URL (default amqp://guest:guest@127.0.0.1:5672/) and
throwaway exchange/queue names that are deleted afterwards.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pika

_SHARED = str(Path(__file__).resolve().parents[2] / "shared")
if _SHARED not in sys.path:
    sys.path.insert(0, _SHARED)

from bigtech.bus import (  # noqa: E402
    EventEnvelope,
    InMemoryOutboxStore,
    InMemoryProcessedEvents,
    Relay,
    Subscriber,
    Topology,
    idempotent,
)

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
EVENTS = int(os.environ.get("BIGTECH_BENCH_BUS_EVENTS", "2000"))
LATENCY_SAMPLES = int(os.environ.get("BIGTECH_BENCH_BUS_SAMPLES", "30"))
TYPES = ("payment.confirmed", "order.created", "credits.granted", "consulta.completed")

ROUNDS = 2  # pika and relay publish runs alternate, so neither benefits from a warmer broker

Emit = Callable[[str, float, str], None]


def _emitter(report) -> Emit:  # type: ignore[no-untyped-def]
    """The bench runner passes a `Report` (`.metric(name, value, unit)`); a plain callable works too."""
    return report.metric if hasattr(report, "metric") else report


def _events(count: int) -> list[EventEnvelope]:
    return [EventEnvelope(type=TYPES[i % len(TYPES)], tenant_id=f"tenant-{i % 3}", data={"n": i})
            for i in range(count)]


def _plain_pika_rate(url: str, topology: Topology, events: list[EventEnvelope]) -> float:
    """The baseline: one connection, confirm mode, mandatory persistent publishes, one confirm at a time."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        bodies = [(e.type, e.to_body(), e.amqp_properties()) for e in events]
        started = time.perf_counter()
        for routing_key, body, props in bodies:
            channel.basic_publish(topology.exchange, routing_key, body, props, mandatory=True)
        return len(events) / (time.perf_counter() - started)
    finally:
        connection.close()


def _purge(url: str, topology: Topology, names: list[str]) -> None:
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        for name in names:
            channel.queue_purge(topology.queue(name))
    finally:
        connection.close()


def run(report) -> None:  # type: ignore[no-untyped-def]
    emit = _emitter(report)
    url = os.environ.get("BIGTECH_BUS_URL") or DEFAULT_URL
    uid = uuid.uuid4().hex[:8]
    topology = Topology(exchange=f"bench-{uid}.events", queue_prefix=f"bench-{uid}")
    handled: dict[str, float] = {}
    processed = InMemoryProcessedEvents()
    sink = Subscriber("sink", ("#",), idempotent("sink", processed, lambda e: handled.__setitem__(
        e.id, time.perf_counter())))
    try:
        # Declare the topology once (a relay run does it) so both publishers hit the same quorum queue.
        Relay(InMemoryOutboxStore(), [sink], url, topology=topology).run(drain=False)

        _plain_pika_rate(url, topology, _events(200))  # warm-up
        pika_rates, relay_rates = [], []
        outbox = InMemoryOutboxStore()
        relay = Relay(outbox, [sink], url, topology=topology, batch_size=500)
        for _ in range(ROUNDS):
            _purge(url, topology, ["sink"])
            pika_rates.append(_plain_pika_rate(url, topology, _events(EVENTS)))
            _purge(url, topology, ["sink"])
            outbox.add_many(_events(EVENTS))
            started = time.perf_counter()
            result = relay.run(drain=False, budget_seconds=300)
            elapsed = time.perf_counter() - started  # includes connect + topology declaration, per run
            if not result.ok or result.published != EVENTS:
                raise RuntimeError(f"relay publish run failed: {result.line()}")
            relay_rates.append(EVENTS / elapsed)
        baseline, relay_rate = statistics.fmean(pika_rates), statistics.fmean(relay_rates)
        emit("bus plain pika publish+confirm", round(baseline, 1), "events/s")
        emit("bus relay publish+confirm", round(relay_rate, 1), "events/s")
        emit("bus relay/pika publish ratio", round(relay_rate / baseline, 3), "x")
        drained = time.perf_counter()
        result = relay.run(budget_seconds=300)
        emit("bus relay drain (basic_get+handler+ack)", round(result.delivered / (time.perf_counter() - drained), 1),
             "events/s")

        # Latency, one event at a time: row staged → relay run (connect, declare, publish, drain) → handler.
        samples = []
        for event in _events(LATENCY_SAMPLES):
            staged = time.perf_counter()
            outbox.add(event)
            relay.run(budget_seconds=10)
            samples.append((handled[event.id] - staged) * 1000)
        emit("bus outbox->subscriber 1 event p50", round(statistics.median(samples), 2), "ms")
        emit("bus outbox->subscriber 1 event max", round(max(samples), 2), "ms")

        # Latency under load: a batch of rows staged at once, one relay run; per-event outbox → handler.
        batch = _events(1000)
        staged_at = {}
        for event in batch:
            staged_at[event.id] = time.perf_counter()
            outbox.add(event)
        relay.run(budget_seconds=60)
        lat = sorted((handled[e.id] - staged_at[e.id]) * 1000 for e in batch)
        emit("bus outbox->subscriber 1000 batch p50", round(lat[len(lat) // 2], 2), "ms")
        emit("bus outbox->subscriber 1000 batch p95", round(lat[int(len(lat) * 0.95)], 2), "ms")
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            topology.delete(connection.channel(), ["sink"])
        finally:
            connection.close()


if __name__ == "__main__":
    run(lambda name, value, unit: print(f"{name:<40} {value:>12} {unit}"))
