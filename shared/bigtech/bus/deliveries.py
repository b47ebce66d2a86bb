"""Per-(subscriber, event) delivery bookkeeping for direct mode (no broker).

Over RabbitMQ the quorum queue counts deliveries and dead-letters; without it this store does the same job:
attempts, last error, and a `dead` state after the limit that the ops task lists and replays. With Appwrite it
maps onto a `deliveries` table keyed by `processed_row_id(subscriber, event_id)`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from .envelope import EventEnvelope


class DeliveryStatus(StrEnum):
    FAILED = "failed"  # will be retried on a later run
    DELIVERED = "delivered"
    DEAD = "dead"  # over the limit; waits for a replay


@dataclass(frozen=True)
class DeliveryRecord:
    subscriber: str
    envelope: EventEnvelope
    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    updated_at: float = 0.0

    @property
    def event_id(self) -> str:
        return self.envelope.id


@runtime_checkable
class DeliveryStore(Protocol):
    def get(self, subscriber: str, event_id: str) -> DeliveryRecord | None: ...

    def lookup(
        self, subscribers: Sequence[str], envelopes: Sequence[EventEnvelope]
    ) -> dict[tuple[str, str], DeliveryRecord]:
        """The records that exist for these subscribers × events, keyed by (subscriber, event id): one call per
        claimed batch instead of one per delivery."""
        ...

    def record_success(self, subscriber: str, envelope: EventEnvelope) -> DeliveryRecord: ...

    def record_failure(
        self, subscriber: str, envelope: EventEnvelope, error: str, max_attempts: int
    ) -> DeliveryRecord:
        """Count a failed attempt; the record turns `dead` once attempts reach `max_attempts`."""
        ...

    def dead_letters(self, subscriber: str | None = None) -> list[DeliveryRecord]: ...

    def revive(self, subscriber: str, event_ids: Iterable[str] | None = None) -> list[DeliveryRecord]:
        """Turn dead records back into retryable ones (attempts reset); returns the revived records."""
        ...


class InMemoryDeliveryStore:
    def __init__(self) -> None:
        self._records: dict[tuple[str, str], DeliveryRecord] = {}
        self._lock = threading.Lock()

    def get(self, subscriber: str, event_id: str) -> DeliveryRecord | None:
        with self._lock:
            return self._records.get((subscriber, event_id))

    def lookup(
        self, subscribers: Sequence[str], envelopes: Sequence[EventEnvelope]
    ) -> dict[tuple[str, str], DeliveryRecord]:
        with self._lock:
            return {
                (name, e.id): self._records[(name, e.id)]
                for name in subscribers
                for e in envelopes
                if (name, e.id) in self._records
            }

    def record_success(self, subscriber: str, envelope: EventEnvelope) -> DeliveryRecord:
        with self._lock:
            old = self._records.get((subscriber, envelope.id))
            record = DeliveryRecord(
                subscriber=subscriber,
                envelope=envelope,
                status=DeliveryStatus.DELIVERED,
                attempts=(old.attempts if old else 0) + 1,
                last_error=old.last_error if old else None,
                updated_at=time.time(),
            )
            self._records[(subscriber, envelope.id)] = record
            return record

    def record_failure(
        self, subscriber: str, envelope: EventEnvelope, error: str, max_attempts: int
    ) -> DeliveryRecord:
        with self._lock:
            old = self._records.get((subscriber, envelope.id))
            attempts = (old.attempts if old else 0) + 1
            record = DeliveryRecord(
                subscriber=subscriber,
                envelope=envelope,
                status=DeliveryStatus.DEAD if attempts >= max_attempts else DeliveryStatus.FAILED,
                attempts=attempts,
                last_error=error,
                updated_at=time.time(),
            )
            self._records[(subscriber, envelope.id)] = record
            return record

    def dead_letters(self, subscriber: str | None = None) -> list[DeliveryRecord]:
        with self._lock:
            return [
                r
                for r in self._records.values()
                if r.status is DeliveryStatus.DEAD and (subscriber is None or r.subscriber == subscriber)
            ]

    def revive(self, subscriber: str, event_ids: Iterable[str] | None = None) -> list[DeliveryRecord]:
        wanted = set(event_ids) if event_ids is not None else None
        revived = []
        with self._lock:
            for key, record in list(self._records.items()):
                if record.subscriber != subscriber or record.status is not DeliveryStatus.DEAD:
                    continue
                if wanted is not None and record.event_id not in wanted:
                    continue
                record = replace(record, status=DeliveryStatus.FAILED, attempts=0, updated_at=time.time())
                self._records[key] = record
                revived.append(record)
        return revived
