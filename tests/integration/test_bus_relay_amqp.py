"""The relay against the real RabbitMQ: fan-out exactly once in effect, retries, dead letters and replay."""

from __future__ import annotations

import threading
import time

import pika
import pytest

from bigtech.bus import AmqpOps, EventEnvelope, InMemoryOutboxStore, OutboxStatus, Relay
from tests.support.bus_fakes import TENANTS, RecordingSubscriber, make_events, run_until_quiet

pytestmark = pytest.mark.rabbitmq

BILLING_PATTERNS = ("payment.*", "order.#", "credits.*", "consulta.*", "tenant.*")


@pytest.mark.slow
def test_thousand_events_over_three_tenants_reach_two_subscribers_exactly_once(bus_sandbox):
    audit = RecordingSubscriber("audit", ["#"])
    billing = RecordingSubscriber("billing", BILLING_PATTERNS)
    bus_sandbox.track("audit", "billing")
    outbox = InMemoryOutboxStore()
    events = make_events(1000)
    outbox.add_many(events)

    def relay() -> Relay:
        return Relay(outbox, [audit.subscriber, billing.subscriber], bus_sandbox.url, topology=bus_sandbox.topology,
                     batch_size=100)

    # A tenant-triggered run only touches that tenant's rows.
    first = relay().run(TENANTS[0], budget_seconds=20)
    assert first.ok, first.line()
    tenant_a = [e for e in events if e.tenant_id == TENANTS[0]]
    assert first.published == len(tenant_a)
    assert outbox.count(TENANTS[0], OutboxStatus.PENDING) == 0
    assert outbox.count(TENANTS[1], OutboxStatus.PENDING) == len([e for e in events if e.tenant_id == TENANTS[1]])

    # Two scheduled runs at once: claims keep them from publishing the same row twice.
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(relay().run(None, budget_seconds=20)))
               for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(r.ok for r in reports), [r.line() for r in reports]
    assert first.published + sum(r.published for r in reports) == 1000
    run_until_quiet(relay())

    assert outbox.count(status=OutboxStatus.PENDING) == 0
    for sub in (audit, billing):
        sub.assert_exactly_once(events)
        # No row was published twice, so not even a raw duplicate reached a subscriber.
        assert max(sub.calls.values()) == 1
    status = {s.subscriber: s for s in AmqpOps(bus_sandbox.url, bus_sandbox.topology).status(["audit", "billing"])}
    assert status["audit"].ready == 0 and status["audit"].dead_letters == 0
    assert status["billing"].ready == 0 and status["billing"].dead_letters == 0


def test_published_twice_is_still_applied_once(bus_sandbox):
    """If two relays ever publish the same row (e.g. an expired lease), consumers dedupe on the event id."""
    sub = RecordingSubscriber("dedupe", ["#"])
    bus_sandbox.track("dedupe")
    outbox = InMemoryOutboxStore()
    events = make_events(20)
    outbox.add_many(events)
    relay = Relay(outbox, [sub.subscriber], bus_sandbox.url, topology=bus_sandbox.topology)
    assert relay.run().delivered == 20
    outbox.reopen([e.id for e in events])  # as if a second relay had claimed and published them again
    report = relay.run()
    assert report.ok and report.published == 20
    assert report.duplicates == 20 and report.delivered == 0
    assert all(n == 2 for n in sub.calls.values())
    sub.assert_exactly_once(events)


def test_subscriber_failing_three_times_then_succeeding_gets_the_event_once(bus_sandbox):
    flaky = RecordingSubscriber("flaky", ["payment.*"], fail_first=3)
    steady = RecordingSubscriber("steady", ["payment.*"])
    bus_sandbox.track("flaky", "steady")
    outbox = InMemoryOutboxStore()
    event = EventEnvelope(type="payment.confirmed", tenant_id="tenant-a", data={"amount": 10})
    outbox.add(event)
    relay = Relay(outbox, [flaky.subscriber, steady.subscriber], bus_sandbox.url, topology=bus_sandbox.topology)

    reports = [relay.run(budget_seconds=5) for _ in range(4)]
    assert [r.failed for r in reports] == [1, 1, 1, 0]
    assert [r.delivered for r in reports] == [1, 0, 0, 1]  # steady on run 1, flaky on run 4
    assert reports[0].published == 1 and all(r.ok for r in reports)
    assert "flaky: flaky attempt 1" in reports[0].errors[0]
    flaky.assert_exactly_once([event])
    steady.assert_exactly_once([event])
    assert flaky.calls[event.id] == 4
    status = AmqpOps(bus_sandbox.url, bus_sandbox.topology).status(["flaky"])[0]
    assert status.ready == 0 and status.dead_letters == 0


def test_always_failing_subscriber_is_dead_lettered_with_its_reason_and_can_be_replayed(bus_sandbox):
    topology = bus_sandbox.with_limit(3)
    broken = RecordingSubscriber("broken", ["order.created"], fail_always=True)
    bus_sandbox.track("broken")
    outbox = InMemoryOutboxStore()
    doomed, after = make_events(2, types=["order.created"])
    outbox.add_many([doomed, after])
    relay = Relay(outbox, [broken.subscriber], bus_sandbox.url, topology=topology)

    reports = [relay.run(budget_seconds=5) for _ in range(3)]
    # Runs 1-2: the head event fails and the subscriber backs off. Run 3: its 3rd attempt dead-letters it, the
    # queue moves on, and the next event fails its first attempt.
    assert [r.failed for r in reports] == [1, 1, 1]
    assert [r.dead_lettered for r in reports] == [0, 0, 1]
    ops = AmqpOps(bus_sandbox.url, topology)
    status = ops.status(["broken"])[0]
    assert status.dead_letters == 1 and status.ready == 1
    letters = ops.dead_letters("broken")
    assert len(letters) == 1
    letter = letters[0]
    assert letter.event_id == doomed.id and letter.type == "order.created" and letter.tenant_id == doomed.tenant_id
    assert letter.attempts == 3
    assert "RuntimeError: boom: broken refuses" in letter.reason
    assert ops.status(["broken"])[0].dead_letters == 1  # listing did not consume them

    broken.fail_always = False
    assert ops.replay("broken") == 1
    status = ops.status(["broken"])[0]
    assert status.dead_letters == 0 and status.ready == 2
    run_until_quiet(relay)
    broken.assert_exactly_once([doomed, after])
    assert ops.status(["broken"])[0].ready == 0


def test_broker_delivery_limit_is_the_safety_net_and_its_reason_is_reported(bus_sandbox):
    """If a relay keeps dying mid-delivery, RabbitMQ itself dead-letters after x-delivery-limit; ops shows why."""
    topology = bus_sandbox.with_limit(2)
    sub = RecordingSubscriber("crashy", ["#"])
    bus_sandbox.track("crashy")
    outbox = InMemoryOutboxStore()
    event = outbox.add(EventEnvelope(type="tenant.created", tenant_id="tenant-a")).envelope
    relay = Relay(outbox, [sub.subscriber], bus_sandbox.url, topology=topology)
    # Publish only (the run declares the subscriber's queue), then play consumers that die before acking.
    assert relay.run(drain=False).published == 1
    connection, channel = bus_sandbox.channel()
    try:
        for _ in range(topology.delivery_limit + 1):
            method, _, _ = channel.basic_get(topology.queue("crashy"), auto_ack=False)
            assert method is not None
            channel.basic_nack(method.delivery_tag, requeue=True)
        time.sleep(0.3)
    finally:
        connection.close()
    letters = AmqpOps(bus_sandbox.url, topology).dead_letters("crashy")
    assert [(d.event_id, d.reason.split(" in ")[0]) for d in letters] == [(event.id, "broker: delivery_limit")]


def test_unroutable_event_counts_as_published(bus_sandbox):
    sub = RecordingSubscriber("payments-only", ["payment.*"])
    bus_sandbox.track("payments-only")
    outbox = InMemoryOutboxStore()
    outbox.add(EventEnvelope(type="apikey.created", tenant_id="tenant-a"))
    report = Relay(outbox, [sub.subscriber], bus_sandbox.url, topology=bus_sandbox.topology).run()
    assert report.ok and report.published == 1 and report.unroutable == 1 and report.delivered == 0
    assert outbox.count(status=OutboxStatus.PENDING) == 0


def test_topology_redeclaration_is_idempotent(bus_sandbox):
    sub = RecordingSubscriber("twice", ["payment.*", "credits.#"])
    bus_sandbox.track("twice")
    connection, channel = bus_sandbox.channel()
    try:
        bus_sandbox.topology.declare(channel, [sub.subscriber])
        bus_sandbox.topology.declare(channel, [sub.subscriber])
        frame = channel.queue_declare(bus_sandbox.topology.queue("twice"), passive=True)
        assert frame.method.message_count == 0
    finally:
        connection.close()


def test_report_line_for_the_execution_log(bus_sandbox):
    sub = RecordingSubscriber("liner", ["#"])
    bus_sandbox.track("liner")
    outbox = InMemoryOutboxStore()
    outbox.add_many(make_events(3))
    line = Relay(outbox, [sub.subscriber], bus_sandbox.url, topology=bus_sandbox.topology).run().line()
    assert line.startswith("relay mode=amqp tenant=* published=3 unroutable=0 delivered=3 duplicates=0 failed=0 "
                           "dead_lettered=0 pending_left=0 elapsed=")
    assert line.endswith(" ok")


def test_confirmed_message_is_persistent_with_id_tenant_and_type(bus_sandbox):
    sub = RecordingSubscriber("inspect", ["consulta.completed"])
    bus_sandbox.track("inspect")
    outbox = InMemoryOutboxStore()
    event = outbox.add(EventEnvelope(type="consulta.completed", tenant_id="tenant-b", data={"k": 1})).envelope
    relay = Relay(outbox, [sub.subscriber], bus_sandbox.url, topology=bus_sandbox.topology)
    assert relay.run(drain=False).published == 1  # publish only, then look at the message ourselves
    connection, channel = bus_sandbox.channel()
    try:
        method, props, body = channel.basic_get(bus_sandbox.topology.queue("inspect"), auto_ack=True)
    finally:
        connection.close()
    assert method.routing_key == "consulta.completed"
    assert props.delivery_mode == pika.DeliveryMode.Persistent.value
    assert props.message_id == event.id and props.content_type == "application/json"
    assert props.headers["tenant_id"] == "tenant-b" and props.headers["type"] == "consulta.completed"
    assert EventEnvelope.from_amqp(body, props) == event


@pytest.mark.slow
def test_drain_stops_within_the_budget_and_the_next_run_continues(bus_sandbox):
    slow = RecordingSubscriber("slow", ["#"])
    bus_sandbox.track("slow")
    handle = slow._deliver
    slow._deliver = lambda e: (time.sleep(0.01), handle(e))[1]
    outbox = InMemoryOutboxStore()
    events = make_events(200)
    outbox.add_many(events)
    relay = Relay(outbox, [slow.subscriber], bus_sandbox.url, topology=bus_sandbox.topology)
    report = relay.run(budget_seconds=1.0)  # ~2 s of deliveries: the budget stops it part-way
    assert report.ok and report.published == 200 and 0 < report.delivered < 200, report.line()
    assert AmqpOps(bus_sandbox.url, bus_sandbox.topology).status(["slow"])[0].ready == 200 - report.delivered
    run_until_quiet(relay)
    slow.assert_exactly_once(events)
