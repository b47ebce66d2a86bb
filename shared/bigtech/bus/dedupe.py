"""Consumer-side dedupe on `(consumer, event id)`, so a redelivered or twice-published event does nothing.

With TablesDB the marker is a row in `processed_events` whose row id is `processed_row_id(consumer, event_id)`:
creating it twice fails with 409, which is the "already seen" answer. Ideally the subscriber creates that row
in the same TablesDB transaction as its own writes; `idempotent()` is the portable fallback (mark, run, and
forget the mark if the handler failed so a retry can apply it).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from .envelope import EventEnvelope


@runtime_checkable
class ProcessedEvents(Protocol):
    def mark_processed(self, consumer: str, event_id: str) -> bool:
        """Record that `consumer` handled `event_id`. False if it was already recorded (a duplicate)."""
        ...

    def forget(self, consumer: str, event_id: str) -> None:
        """Undo a mark whose handler failed, so the next delivery is applied."""
        ...


def processed_row_id(consumer: str, event_id: str) -> str:
    """Deterministic Appwrite row id (≤36 chars, [a-z0-9], starts with a letter) for the dedupe marker."""
    digest = hashlib.sha256(f"{consumer}\x00{event_id}".encode()).hexdigest()
    return "p" + digest[:35]


class InMemoryProcessedEvents:
    """Thread-safe in-memory `ProcessedEvents` (tests, benchmark)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def mark_processed(self, consumer: str, event_id: str) -> bool:
        key = (consumer, event_id)
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def forget(self, consumer: str, event_id: str) -> None:
        with self._lock:
            self._seen.discard((consumer, event_id))

    def seen(self, consumer: str) -> set[str]:
        with self._lock:
            return {e for c, e in self._seen if c == consumer}


Handler = Callable[[EventEnvelope], object]


def idempotent(consumer: str, processed: ProcessedEvents, handler: Handler) -> Callable[[EventEnvelope], bool]:
    """Wrap `handler` so each event id is applied at most once per consumer.

    Returns True when the handler ran, False for a duplicate (the relay counts those separately). If the handler
    raises, the mark is withdrawn and the exception propagates, so the bus retries the delivery.
    """

    def deliver(envelope: EventEnvelope) -> bool:
        if not processed.mark_processed(consumer, envelope.id):
            return False
        try:
            handler(envelope)
        except BaseException:
            processed.forget(consumer, envelope.id)
            raise
        return True

    deliver.__name__ = f"idempotent_{consumer}"
    return deliver
