"""Direct mode (no BIGTECH_BUS_URL): the relay hands outbox rows to subscribers itself, with the same dedupe,
attempt counting, dead-lettering and replay as over RabbitMQ."""

import threading

from bigtech.bus import (
    DirectOps,
    EventEnvelope,
    InMemoryDeliveryStore,
    InMemoryOutboxStore,
    OutboxStatus,
    Relay,
    Topology,
    bus_url_from_env,
)
from tests.support.bus_fakes import TENANTS, RecordingSubscriber, make_events, run_until_quiet

BILLING_PATTERNS = ("payment.*", "order.#", "credits.*", "consulta.*", "tenant.*")


def test_bus_url_comes_from_the_environment():
    assert bus_url_from_env({}) is None
    assert bus_url_from_env({"BIGTECH_BUS_URL": "  "}) is None
    assert bus_url_from_env({"BIGTECH_BUS_URL": "amqp://guest:guest@127.0.0.1:5672/"}).startswith("amqp://")
    assert Relay(InMemoryOutboxStore(), []).mode == "direct"


def test_thousand_events_over_three_tenants_reach_two_subscribers_exactly_once():
    audit = RecordingSubscriber("audit", ["#"])
    billing = RecordingSubscriber("billing", BILLING_PATTERNS)
    outbox = InMemoryOutboxStore()
    events = make_events(1000)
    outbox.add_many(events)
    deliveries = InMemoryDeliveryStore()

    def relay() -> Relay:
        return Relay(outbox, [audit.subscriber, billing.subscriber], deliveries=deliveries, batch_size=64)

    first = relay().run(TENANTS[1])
    assert first.ok and first.published == sum(1 for e in events if e.tenant_id == TENANTS[1])
    reports = []
    threads = [threading.Thread(target=lambda: reports.append(relay().run())) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run_until_quiet(relay())
    assert first.published + sum(r.published for r in reports) == 1000
    assert outbox.count(status=OutboxStatus.PENDING) == 0
    for sub in (audit, billing):
        sub.assert_exactly_once(events)
        assert max(sub.calls.values()) == 1


def test_reopened_rows_are_applied_once():
    sub = RecordingSubscriber("dedupe", ["#"])
    outbox = InMemoryOutboxStore()
    events = make_events(10)
    outbox.add_many(events)
    relay = Relay(outbox, [sub.subscriber])
    assert relay.run().delivered == 10
    # A row every subscriber took at once leaves no delivery records (they would cost a write per delivery), so
    # a reopened row (as if a second relay had published it too) is re-sent and the consumer's dedupe absorbs it.
    outbox.reopen([e.id for e in events])
    again = relay.run()
    assert again.published == 10 and again.delivered == 0 and again.duplicates == 10
    assert sum(sub.calls.values()) == 20
    sub.assert_exactly_once(events)


def test_subscriber_failing_three_times_then_succeeding_gets_the_event_once():
    flaky = RecordingSubscriber("flaky", ["payment.*"], fail_first=3)
    steady = RecordingSubscriber("steady", ["payment.*"])
    outbox = InMemoryOutboxStore()
    event = outbox.add(EventEnvelope(type="payment.confirmed", tenant_id="t1")).envelope
    relay = Relay(outbox, [flaky.subscriber, steady.subscriber])
    reports = [relay.run() for _ in range(4)]
    assert [r.failed for r in reports] == [1, 1, 1, 0]
    assert [r.delivered for r in reports] == [1, 0, 0, 1]
    assert [r.published for r in reports] == [0, 0, 0, 1]  # the row stays pending until flaky has it
    assert outbox.get(event.id).status is OutboxStatus.PUBLISHED
    flaky.assert_exactly_once([event])
    steady.assert_exactly_once([event])
    assert relay.deliveries.get("flaky", event.id).attempts == 4


def test_always_failing_subscriber_is_dead_lettered_and_can_be_replayed():
    broken = RecordingSubscriber("broken", ["order.created"], fail_always=True)
    other = RecordingSubscriber("other", ["#"])
    outbox = InMemoryOutboxStore()
    doomed, after = make_events(2, types=["order.created"])
    outbox.add_many([doomed, after])
    deliveries = InMemoryDeliveryStore()
    relay = Relay(outbox, [broken.subscriber, other.subscriber], deliveries=deliveries,
                  topology=Topology(delivery_limit=3))
    reports = [relay.run() for _ in range(3)]
    assert [r.failed for r in reports] == [1, 1, 1]
    assert [r.dead_lettered for r in reports] == [0, 0, 1]
    other.assert_exactly_once([doomed, after])
    ops = DirectOps(deliveries, outbox)
    letters = ops.dead_letters("broken")
    assert [(d.event_id, d.attempts) for d in letters] == [(doomed.id, 3)]
    assert "RuntimeError: boom: broken refuses" in letters[0].reason
    assert ops.status(["broken"])[0].dead_letters == 1
    assert outbox.get(doomed.id).status is OutboxStatus.PUBLISHED  # handled: delivered or dead everywhere

    broken.fail_always = False
    assert ops.replay("broken") == 1
    assert ops.dead_letters("broken") == []
    run_until_quiet(relay)
    broken.assert_exactly_once([doomed, after])
    other.assert_exactly_once([doomed, after])
    assert max(other.calls.values()) == 1  # the replay went to the broken subscriber only


def test_unroutable_rows_are_published_and_the_report_line():
    outbox = InMemoryOutboxStore()
    outbox.add(EventEnvelope(type="apikey.created", tenant_id="t1"))
    report = Relay(outbox, [RecordingSubscriber("p", ["payment.*"]).subscriber]).run()
    assert report.published == 1 and report.unroutable == 1
    assert report.line().startswith("relay mode=direct tenant=* published=1 unroutable=1 delivered=0")
    assert report.line().endswith(" ok")


def test_budget_is_respected():
    import time

    slow = RecordingSubscriber("slow", ["#"])
    original = slow._deliver
    slow._deliver = lambda e: (time.sleep(0.01), original(e))[1]
    outbox = InMemoryOutboxStore()
    outbox.add_many(make_events(200))
    report = Relay(outbox, [slow.subscriber]).run(budget_seconds=0.3)  # ~2 s of deliveries: stopped part-way
    assert 0 < report.delivered < 200 and report.pending_left == 200 - report.published
    assert all(r.claimed_by is None for r in outbox.rows())  # leftovers released for the next run
