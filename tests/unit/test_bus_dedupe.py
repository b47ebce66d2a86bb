"""Consumer dedupe on (consumer, event id)."""

import pytest

from bigtech.bus import EventEnvelope, InMemoryProcessedEvents, idempotent


def test_redelivery_does_nothing_and_failures_are_retryable():
    processed = InMemoryProcessedEvents()
    effects = []
    fail = [True]

    def handler(event):
        if fail[0]:
            raise RuntimeError("down")
        effects.append(event.id)

    deliver = idempotent("billing", processed, handler)
    event = EventEnvelope(type="payment.confirmed", tenant_id="t1")
    with pytest.raises(RuntimeError):
        deliver(event)
    assert processed.seen("billing") == set()  # the failed attempt left no mark
    fail[0] = False
    assert deliver(event) is True
    assert deliver(event) is False
    assert effects == [event.id]
    # Another consumer has its own marks.
    assert idempotent("audit", processed, lambda e: None)(event) is True
