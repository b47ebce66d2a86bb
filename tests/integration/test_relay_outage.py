"""The relay function through a broker outage (a TCP proxy in front of the real RabbitMQ cuts the line): outbox
rows stay pending, runs fail cleanly, and once the line is back every event arrives — none lost, none applied
twice."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlparse

import pytest

from bigtech.bus import AmqpOps
from tests.support.bus_fakes import make_events
from tests.support.relay_stack import SubscriberSpec, relay_world
from tests.support.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.rabbitmq, pytest.mark.slow]

TENANTS = ("ta", "tb", "tc")


@pytest.fixture
def proxy(bus_sandbox):
    target = urlparse(bus_sandbox.url)
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5672) as running:
        yield running


def test_broker_outage_keeps_rows_pending_and_everything_arrives_once_after_restore(tmp_path, bus_sandbox, proxy):
    subscribers = {"sub-audit": SubscriberSpec(("#",)), "sub-billing": SubscriberSpec(("payment.*", "order.#"))}
    bus_sandbox.track(*subscribers)
    topology = bus_sandbox.topology
    bus = {"BIGTECH_BUS_URL": proxy.url(), "BIGTECH_BUS_EXCHANGE": topology.exchange,
           "BIGTECH_BUS_QUEUE_PREFIX": topology.queue_prefix}
    with relay_world(tmp_path, subscribers, bus=bus, relay_events=False) as world:
        world.add_tenants(TENANTS)
        events = make_events(300, tenants=TENANTS)
        world.stage_in_bulk(events)

        # 1. Broker unreachable: the run fails cleanly (503, the reason in its log) and leaves the outbox alone.
        proxy.cut()
        down = world.run_relay(budget=10)
        assert down["status"] == 503 and not down["ok"] and "cannot connect to the broker" in down["error"]
        assert "relay mode=amqp" in down["logs"] and "error=" in down["logs"]
        assert world.outbox_statuses() == {"pending": 300, "published": 0, "dead": 0}
        assert all(r["claimed_by"] is None and not r["attempts"] for t in TENANTS for r in world.outbox_rows(t))

        # 2. The line drops in the middle of a run (while it delivers): the run stops with an error.
        proxy.restore()
        reports: list[dict] = []
        runner = threading.Thread(target=lambda: reports.append(world.run_relay(budget=25)))
        runner.start()
        deadline = time.monotonic() + 20
        while sum(world.effects().values()) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        proxy.cut()
        runner.join()
        cut = reports[0]
        assert cut["status"] == 503 and not cut["ok"] and "BusUnavailable" in cut["error"], cut
        applied_before = sum(world.effects().values())
        assert applied_before >= 20

        # 3. Still down: another run fails cleanly and changes nothing.
        pending = world.outbox_statuses()["pending"]
        assert not world.run_relay(budget=5)["ok"]
        assert world.outbox_statuses()["pending"] == pending
        assert sum(world.effects().values()) == applied_before

        # 4. Back up: every event is published and delivered, none lost, none applied twice.
        proxy.restore()
        quiet = world.run_until_quiet()
        assert all(r["ok"] for r in quiet), quiet
        assert world.outbox_statuses() == {"pending": 0, "published": 300, "dead": 0}
        world.assert_exactly_once(events, ["sub-audit"])
        world.assert_exactly_once([e for e in events if e.type.startswith(("payment.", "order."))], ["sub-billing"])
        status = AmqpOps(bus_sandbox.url, topology).status(list(subscribers))
        assert [(s.ready, s.dead_letters) for s in status] == [(0, 0), (0, 0)]
