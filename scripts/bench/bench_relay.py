"""The `relay` function through the local stack and the real RabbitMQ: events per second it publishes with confirms
(claiming TablesDB outbox rows, publishing, marking them published), next to a plain pika publish-with-confirms
loop in the same run, and end-to-end latency from an outbox row to the subscriber function's effect.

Needs RabbitMQ (BIGTECH_BUS_URL, default amqp://guest:guest@127.0.0.1:5672/); uses throwaway exchange/queue names
that are deleted afterwards. `python scripts/bench/bench_relay.py` runs it alone.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import pika

_REPO = Path(__file__).resolve().parents[2]
for _path in (_REPO, _REPO / "shared", _REPO / "scripts"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from bench.bench_bus import _emitter, _plain_pika_rate  # noqa: E402
from bigtech.bus import EventEnvelope, Topology  # noqa: E402
from tests.support.bus_fakes import make_events  # noqa: E402
from tests.support.relay_stack import SubscriberSpec, relay_world  # noqa: E402

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672/"
EVENTS = int(os.environ.get("BIGTECH_BENCH_RELAY_EVENTS", "1000"))
SAMPLES = int(os.environ.get("BIGTECH_BENCH_RELAY_SAMPLES", "15"))
TENANTS = ("ta", "tb", "tc")


def _when(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _baseline(url: str, uid: str) -> float:
    """The plain pika loop into its own exchange and quorum queue (so the subscriber never sees its events)."""
    topology = Topology(exchange=f"bench-{uid}-pika.events", queue_prefix=f"bench-{uid}-pika")
    sink = SubscriberSpec(("#",))
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        from bigtech.bus import Subscriber

        topology.declare(connection.channel(), [Subscriber("sink", sink.patterns, lambda e: None)])
        return _plain_pika_rate(url, topology, make_events(EVENTS, tenants=TENANTS))
    finally:
        topology.delete(connection.channel(), ["sink"])
        connection.close()


def run(report) -> None:  # type: ignore[no-untyped-def]
    emit = _emitter(report)
    url = os.environ.get("BIGTECH_BUS_URL") or DEFAULT_URL
    uid = uuid.uuid4().hex[:8]
    topology = Topology(exchange=f"bench-{uid}.events", queue_prefix=f"bench-{uid}")
    bus = {"BIGTECH_BUS_URL": url, "BIGTECH_BUS_EXCHANGE": topology.exchange,
           "BIGTECH_BUS_QUEUE_PREFIX": topology.queue_prefix}
    subscribers = {"bench-sink": SubscriberSpec(("#",))}
    try:
        with relay_world(Path(tempfile.mkdtemp(prefix="bench-relay-")), subscribers, bus=bus) as world:
            world.add_tenants(TENANTS)
            # 1. Publish rate: a publish-only view of one relay run over EVENTS rows (drain measured separately).
            events = make_events(EVENTS, tenants=TENANTS)
            world.stage_in_bulk(events)
            started = time.monotonic()
            first = world.run_relay(budget=25)  # a synchronous execution must answer within 30 s
            wall = time.monotonic() - started
            baseline = _baseline(url, uid)
            if first["publish_elapsed"]:
                rate = first["published"] / first["publish_elapsed"]
                emit("relay fn publish+confirm (TablesDB outbox)", round(rate, 1), "events/s")
                emit("relay fn / plain pika publish ratio (target >= 0.5)", round(rate / baseline, 3), "x")
            emit("plain pika publish+confirm (same run)", round(baseline, 1), "events/s")
            emit("relay fn run: published", first["published"], "events")
            emit("relay fn run: delivered (same run)", first["delivered"], "events")
            emit("relay fn run wall time", round(wall, 2), "s")
            world.run_until_quiet()
            created = {r.id: r for t in TENANTS for r in world._all(f"tenant_{t}", "outbox")}
            lags = sorted(_when(e.createdat) - _when(created[e.data["event_id"]].createdat)
                          for e in world.effect_rows())
            emit(f"outbox->subscriber, batch of {EVENTS}: p50", round(lags[len(lags) // 2] * 1000, 1), "ms")
            emit(f"outbox->subscriber, batch of {EVENTS}: p95", round(lags[int(len(lags) * 0.95)] * 1000, 1), "ms")

            # 2. Latency of one event: row create → row-create event → relay execution → queue → subscriber.
            samples = []
            for n in range(SAMPLES):
                event = EventEnvelope(type="payment.confirmed", tenant_id=TENANTS[n % 3], data={"n": n})
                begun = time.monotonic()
                world.stage_one(event)
                while world.effects()[("bench-sink", event.id)] == 0:
                    if time.monotonic() - begun > 30:
                        raise TimeoutError(f"event {event.id} never reached the subscriber")
                    time.sleep(0.005)
                samples.append((time.monotonic() - begun) * 1000)
            emit("outbox row->subscriber (event-triggered) p50", round(statistics.median(samples), 1), "ms")
            emit("outbox row->subscriber (event-triggered) max", round(max(samples), 1), "ms")
    finally:
        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            topology.delete(connection.channel(), subscribers)
        finally:
            connection.close()


if __name__ == "__main__":
    run(lambda name, value, unit: print(f"  {name:<48} {value:>12,.2f} {unit}"))
