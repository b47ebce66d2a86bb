"""The relay function end to end over the real RabbitMQ: outbox rows in tenant databases → confirmed publishes to
the topic exchange → quorum queues → subscriber functions' `/events` through executions, exactly once in effect."""

from __future__ import annotations

import pika
import pytest

from bigtech.bus import AmqpOps, EventEnvelope
from bigtech.bus import ops as bus_ops
from tests.support.bus_fakes import make_events
from tests.support.relay_stack import SubscriberSpec, relay_world

pytestmark = pytest.mark.rabbitmq

TENANTS = ("ta", "tb", "tc")
BILLING = ("payment.*", "order.#", "credits.*", "consulta.*", "tenant.*")


def bus_variables(sandbox, url: str | None = None) -> dict[str, str]:
    topology = sandbox.topology
    return {"BIGTECH_BUS_URL": url or sandbox.url, "BIGTECH_BUS_EXCHANGE": topology.exchange,
            "BIGTECH_BUS_QUEUE_PREFIX": topology.queue_prefix,
            "BIGTECH_BUS_DELIVERY_LIMIT": str(topology.delivery_limit)}


@pytest.mark.slow
def test_thousand_events_over_three_tenants_reach_two_subscribers_exactly_once(tmp_path, bus_sandbox):
    subscribers = {"sub-audit": SubscriberSpec(("#",)), "sub-billing": SubscriberSpec(BILLING)}
    bus_sandbox.track(*subscribers)
    with relay_world(tmp_path, subscribers, bus=bus_variables(bus_sandbox), relay_events=False) as world:
        world.add_tenants(TENANTS)
        events = make_events(1000, tenants=TENANTS)
        world.stage_in_bulk(events)

        first = world.run_relay(TENANTS[0])
        assert first["ok"] and first["mode"] == "amqp", first
        assert first["published"] == sum(1 for e in events if e.tenant_id == TENANTS[0])
        assert "relay mode=amqp tenant=ta published=334" in first["logs"]

        # Two runs over every tenant at once: the claims keep them from publishing the same row twice.
        reports = world.run_relays_at_once(2)
        assert all(r["ok"] for r in reports), reports
        assert first["published"] + sum(r["published"] for r in reports) == 1000
        quiet = world.run_until_quiet()

        assert world.outbox_statuses() == {"pending": 0, "published": 1000, "dead": 0}
        world.assert_exactly_once(events, subscribers)
        assert sum(r["duplicates"] for r in [first, *reports, *quiet]) == 0  # not even a raw duplicate
        status = AmqpOps(bus_sandbox.url, bus_sandbox.topology).status(list(subscribers))
        assert [(s.ready, s.dead_letters) for s in status] == [(0, 0), (0, 0)]


def test_event_trigger_publishes_with_confirms_as_persistent_messages(tmp_path, bus_sandbox):
    subscribers = {"sub-audit": SubscriberSpec(("#",))}
    bus_sandbox.track(*subscribers, "probe")
    with relay_world(tmp_path, subscribers, bus=bus_variables(bus_sandbox)) as world:
        world.add_tenants(TENANTS)
        # A probe queue bound like a subscriber's, to look at the message the relay published.
        connection = pika.BlockingConnection(pika.URLParameters(bus_sandbox.url))
        channel = connection.channel()
        bus_sandbox.topology.declare_exchanges(channel)
        probe = bus_sandbox.topology.queue("probe")
        channel.queue_declare(probe, durable=True)
        channel.queue_bind(probe, bus_sandbox.topology.exchange, routing_key="payment.#")

        event = EventEnvelope(type="payment.confirmed", tenant_id="tc", actor="user1", data={"order": "o9"})
        world.stage_one(event)  # the row-create event runs the relay for tenant tc
        runs = world.wait_for_relay_executions(1)
        assert len(runs) == 1 and runs[0].responsestatuscode == 200, runs
        assert "relay mode=amqp tenant=tc published=1" in runs[0].logs and "delivered=1" in runs[0].logs
        world.assert_exactly_once([event], subscribers)

        method, properties, body = channel.basic_get(probe, auto_ack=True)
        connection.close()
        assert method.routing_key == "payment.confirmed" and method.exchange == bus_sandbox.topology.exchange
        assert properties.message_id == event.id and properties.delivery_mode == 2
        assert properties.headers == {"tenant_id": "tc", "type": "payment.confirmed"}
        published = EventEnvelope.from_json(body)
        assert published.model_dump(exclude={"occurred_at"}) == event.model_dump(exclude={"occurred_at"})
        assert abs((published.occurred_at - event.occurred_at).total_seconds()) < 0.001  # stored to the ms


def test_queues_are_durable_quorum_queues_with_dead_lettering(tmp_path, bus_sandbox):
    subscribers = {"sub-audit": SubscriberSpec(("tenant.*", "payment.#"))}
    bus_sandbox.track(*subscribers)
    with relay_world(tmp_path, subscribers, bus=bus_variables(bus_sandbox), relay_events=False) as world:
        world.add_tenants(["ta"])
        assert world.run_relay()["ok"]
    connection = pika.BlockingConnection(pika.URLParameters(bus_sandbox.url))
    channel = connection.channel()
    # Re-declaring with the same arguments succeeds only if the queue has exactly these (else 406).
    queue = bus_sandbox.topology.queue("sub-audit")
    channel.queue_declare(queue, durable=True, arguments=bus_sandbox.topology.queue_arguments("sub-audit"))
    assert bus_sandbox.topology.queue_arguments("sub-audit")["x-queue-type"] == "quorum"
    assert channel.queue_declare(bus_sandbox.topology.dead_letter_queue("sub-audit"), passive=True)
    connection.close()


def test_subscriber_failing_three_times_then_succeeding_gets_the_event_once(tmp_path, bus_sandbox):
    subscribers = {"sub-flaky": SubscriberSpec(("payment.*",), {"BUS_TEST_FAIL_FIRST": "3"}),
                   "sub-steady": SubscriberSpec(("payment.*",))}
    bus_sandbox.track(*subscribers)
    with relay_world(tmp_path, subscribers, bus=bus_variables(bus_sandbox), relay_events=False) as world:
        world.add_tenants(["ta"])
        event = EventEnvelope(type="payment.confirmed", tenant_id="ta")
        world.stage_in_bulk([event])
        reports = [world.run_relay() for _ in range(4)]
        assert [r["published"] for r in reports] == [1, 0, 0, 0]  # published once, retried from the queue
        assert [r["failed"] for r in reports] == [1, 1, 1, 0]
        assert sum(r["delivered"] for r in reports) == 2
        assert "sub-flaky/events answered 503" in reports[0]["errors"][0]
        world.assert_exactly_once([event], subscribers)
        assert world.attempts("sub-flaky", event.id, "ta") == 4


def test_always_failing_subscriber_is_dead_lettered_and_the_replay_task_resends_it(tmp_path, bus_sandbox, capsys):
    topology = bus_sandbox.with_limit(3)
    subscribers = {"sub-broken": SubscriberSpec(("order.created",), {"BUS_TEST_BROKEN": "1"}),
                   "sub-other": SubscriberSpec(("#",))}
    bus_sandbox.track(*subscribers)
    with relay_world(tmp_path, subscribers, bus=bus_variables(bus_sandbox), relay_events=False) as world:
        world.add_tenants(["ta", "tb"])
        doomed = EventEnvelope(type="order.created", tenant_id="tb", data={"n": 1})
        world.stage_in_bulk([doomed])
        reports = [world.run_relay() for _ in range(3)]
        assert [r["failed"] for r in reports] == [1, 1, 0]
        assert [r["dead_lettered"] for r in reports] == [0, 0, 1]
        assert "dead_lettered=1" in reports[2]["logs"]
        world.assert_exactly_once([doomed], ["sub-other"])

        cli = ["--url", bus_sandbox.url, "--exchange", topology.exchange, "--prefix", topology.queue_prefix]
        assert bus_ops.main(["status", "sub-broken", "sub-other", *cli]) == 0
        status = capsys.readouterr().out
        assert f"dead: sub-broken {doomed.id} type=order.created tenant=tb attempts=3" in status
        assert "sub-broken/events answered 500" in status and "sub-broken is broken (attempt 3)" in status

        world.set_variables("sub-broken", BUS_TEST_BROKEN="0")  # fixed
        assert bus_ops.main(["replay", "sub-broken", *cli]) == 0
        assert "sub-broken: replayed 1" in capsys.readouterr().out
        after = world.run_relay()
        assert after["delivered"] == 1 and after["published"] == 0, after
        world.assert_exactly_once([doomed], subscribers)  # the replay went to sub-broken only
        status = AmqpOps(bus_sandbox.url, topology).status(list(subscribers))
        assert [(s.ready, s.dead_letters) for s in status] == [(0, 0), (0, 0)]
