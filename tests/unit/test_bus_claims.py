"""Outbox leases: concurrent relays never claim the same row; expired leases are reclaimed."""

import threading

from bigtech.bus import InMemoryOutboxStore, OutboxStatus
from tests.support.bus_fakes import make_events


def test_concurrent_claims_never_overlap():
    outbox = InMemoryOutboxStore()
    outbox.add_many(make_events(2000))
    claimed: list[list[str]] = [[] for _ in range(8)]

    def worker(index: int) -> None:
        while rows := outbox.claim_pending(None, 37, f"relay-{index}", 60):
            claimed[index].extend(r.id for r in rows)
            outbox.mark_published([r.id for r in rows], f"relay-{index}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    everything = [i for ids in claimed for i in ids]
    assert len(everything) == len(set(everything)) == 2000
    assert outbox.count(status=OutboxStatus.PUBLISHED) == 2000


def test_lease_expiry_tenant_filter_release_and_reopen():
    now = [1000.0]
    outbox = InMemoryOutboxStore(clock=lambda: now[0])
    events = make_events(6, tenants=["a", "b"])
    outbox.add_many(events)
    first = outbox.claim_pending("a", 10, "r1", lease_seconds=30)
    assert [r.tenant_id for r in first] == ["a", "a", "a"]
    assert [r.id for r in first] == [e.id for e in events if e.tenant_id == "a"]  # oldest first
    assert outbox.claim_pending("a", 10, "r2", 30) == []  # leased
    now[0] += 31
    second = outbox.claim_pending("a", 10, "r2", 30)
    assert len(second) == 3  # the lease ran out: another relay may take them
    assert outbox.release([r.id for r in first], "r1", "late") == 0  # r1 no longer owns them
    assert outbox.release([second[0].id], "r2", "broker down") == 1
    row = outbox.get(second[0].id)
    assert row.attempts == 1 and row.last_error == "broker down" and row.claimed_by is None
    assert outbox.mark_published([r.id for r in second], "r2") == 3
    assert outbox.count("a", OutboxStatus.PENDING) == 0 and outbox.count("b", OutboxStatus.PENDING) == 3
    assert outbox.reopen([second[1].id]) == 1
    assert outbox.count("a", OutboxStatus.PENDING) == 1
