"""Broker outages (a TCP proxy in front of the real RabbitMQ cuts the line): nothing lost, nothing applied twice."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from bigtech.bus import AmqpOps, InMemoryOutboxStore, OutboxStatus, Relay
from tests.support.bus_fakes import RecordingSubscriber, make_events, run_until_quiet
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
def proxy(bus_sandbox):
    target = urlparse(bus_sandbox.url)
    with TcpProxy(target.hostname or "127.0.0.1", target.port or 5672) as running:
        yield running


class CuttingOutbox(InMemoryOutboxStore):
    """Cuts the proxy when the relay claims its N-th batch, i.e. in the middle of a publishing run."""

    def __init__(self, proxy: TcpProxy, cut_on_claim: int) -> None:
        super().__init__()
        self.proxy = proxy
        self.cut_on_claim = cut_on_claim
        self.claims = 0

    def claim_pending(self, tenant_id, limit, claim_token, lease_seconds):
        rows = super().claim_pending(tenant_id, limit, claim_token, lease_seconds)
        self.claims += 1
        if self.claims == self.cut_on_claim:
            self.proxy.cut()
        return rows


@pytest.mark.slow
def test_broker_outage_keeps_rows_pending_and_everything_arrives_once_after_restore(bus_sandbox, proxy):
    audit = RecordingSubscriber("audit", ["#"])
    billing = RecordingSubscriber("billing", ["payment.*", "order.*", "credits.*", "consulta.*", "tenant.*"])
    bus_sandbox.track("audit", "billing")
    outbox = CuttingOutbox(proxy, cut_on_claim=3)
    events = make_events(300)
    outbox.add_many(events)
    relay = Relay(outbox, [audit.subscriber, billing.subscriber], proxy.url(), topology=bus_sandbox.topology,
                  batch_size=50, connect_timeout=2)

    # 1. Broker unreachable before the run: it fails cleanly and does not touch the outbox.
    outbox.cut_on_claim = 0
    proxy.cut()
    down = relay.run(budget_seconds=5)
    assert not down.ok and "cannot connect to the broker" in down.error
    assert down.published == 0 and down.delivered == 0
    assert outbox.count(status=OutboxStatus.PENDING) == 300
    assert all(r.claimed_by is None and r.attempts == 0 for r in outbox.rows())

    # 2. The connection drops in the middle of publishing: confirmed rows are marked, the rest released.
    proxy.restore()
    outbox.cut_on_claim, outbox.claims = 3, 0
    mid = relay.run(budget_seconds=10)
    assert not mid.ok and "BusUnavailable" in mid.error, mid.line()
    assert mid.published == 100, mid.line()  # two full batches confirmed before the cut
    assert mid.delivered == 0
    pending = [r for r in outbox.rows() if r.status is OutboxStatus.PENDING]
    assert len(pending) == 200
    assert all(r.claimed_by is None for r in pending)  # released: the next run can take them at once
    assert sum(1 for r in pending if r.attempts == 1 and r.last_error) == 50  # the batch that hit the cut

    # 3. The connection drops while delivering: the unacked message goes back to its queue.
    proxy.restore()
    outbox.cut_on_claim = 0

    def cut_on_tenth_call(n: int) -> None:
        if n == 10:
            proxy.cut()

    audit.on_call = cut_on_tenth_call
    during = relay.run(budget_seconds=10)
    assert not during.ok and "broker connection lost" in during.error, during.line()
    assert during.published == 200 and during.delivered == 9, during.line()  # the 10th was applied, never acked
    audit.on_call = None

    # 4. Still down: a run fails cleanly again.
    assert not relay.run(budget_seconds=5).ok

    # 5. Back up: every event is published and delivered, none lost, none applied twice.
    proxy.restore()
    reports = run_until_quiet(relay)
    assert all(r.ok for r in reports), [r.line() for r in reports]
    assert outbox.count(status=OutboxStatus.PENDING) == 0
    audit.assert_exactly_once(events)
    billing.assert_exactly_once(events)
    assert sum(audit.calls.values()) > 300  # the event whose ack was cut off came back, and dedupe absorbed it
    status = AmqpOps(bus_sandbox.url, bus_sandbox.topology).status(["audit", "billing"])
    assert [(s.ready, s.dead_letters) for s in status] == [(0, 0), (0, 0)]


def test_relay_fails_cleanly_when_the_broker_refuses_connections(bus_sandbox, proxy):
    sub = RecordingSubscriber("refused", ["#"])
    bus_sandbox.track("refused")
    outbox = InMemoryOutboxStore()
    outbox.add_many(make_events(5))
    proxy.cut()
    report = Relay(outbox, [sub.subscriber], proxy.url(), topology=bus_sandbox.topology, connect_timeout=2).run()
    assert not report.ok and report.published == 0
    assert "relay mode=amqp" in report.line() and "error=" in report.line()
    assert outbox.count(status=OutboxStatus.PENDING) == 5
