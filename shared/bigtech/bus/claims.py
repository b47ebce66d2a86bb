"""The transactional outbox as the relay sees it: claim pending rows, mark them published, release them.

Claims are leases (`claimed_by` + `claimed_until`) so two relay runs at once never both publish a row, and a
relay that dies mid-run only delays its rows until the lease runs out. A TablesDB implementation can do the
claim with plain row updates plus an optimistic check, e.g.:

1. list rows `status = pending AND (claimed_until IS NULL OR claimed_until < now)`, ordered by `$sequence`;
2. for each, `increment_row_column(outbox, row, "claim_seq", 1, max=<claim_seq read in 1> + 1)` — Appwrite
   refuses the increment when another relay already bumped the counter, which makes it a compare-and-set;
3. the winner then updates `claimed_by`, `claimed_until`.

If that ever lets two runs publish the same row (clock skew, an expired lease), the consumers' dedupe on
`(consumer, event id)` still applies it once — the claim only has to make duplicates rare, not impossible.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from .envelope import EventEnvelope


class OutboxStatus(StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"


@dataclass(frozen=True)
class OutboxRow:
    envelope: EventEnvelope
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: float | None = None  # epoch seconds
    published_at: float | None = None
    sequence: int = 0  # insertion order; relays publish oldest first
    # Claimed for the first time (claim_seq 0 → 1): no relay held it before, so no delivery records exist yet.
    fresh: bool = False

    @property
    def id(self) -> str:
        return self.envelope.id

    @property
    def tenant_id(self) -> str:
        return self.envelope.tenant_id


@runtime_checkable
class OutboxStore(Protocol):
    """What the relay needs from the outbox (one per tenant database, or all tenants when `tenant_id` is None)."""

    def claim_pending(
        self, tenant_id: str | None, limit: int, claim_token: str, lease_seconds: float
    ) -> list[OutboxRow]:
        """Atomically lease up to `limit` pending, unclaimed (or lease-expired) rows, oldest first."""
        ...

    def mark_published(self, ids: Iterable[str], claim_token: str) -> int:
        """Mark rows published (after the broker confirmed them). Returns how many changed."""
        ...

    def release(self, ids: Iterable[str], claim_token: str, error: str | None = None) -> int:
        """Give back leased rows that were not published; with `error`, count an attempt and keep the reason."""
        ...

    def reopen(self, ids: Iterable[str]) -> int:
        """Put published rows back to pending (direct-mode replay of dead letters)."""
        ...

    def get(self, event_id: str) -> OutboxRow | None: ...

    def count(self, tenant_id: str | None = None, status: OutboxStatus | None = None) -> int: ...


class InMemoryOutboxStore:
    """Thread-safe in-memory outbox for tests, benchmarks and the embedded default without Appwrite."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._rows: dict[str, OutboxRow] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._seq = 0

    # -- staging (what the business transaction does) --------------------------------------------------------
    def add(self, envelope: EventEnvelope) -> OutboxRow:
        with self._lock:
            if envelope.id in self._rows:
                raise ValueError(f"duplicate outbox row {envelope.id}")
            self._seq += 1
            row = OutboxRow(envelope=envelope, sequence=self._seq)
            self._rows[envelope.id] = row
        return row

    def add_many(self, envelopes: Iterable[EventEnvelope]) -> list[OutboxRow]:
        return [self.add(e) for e in envelopes]

    # -- OutboxStore -----------------------------------------------------------------------------------------
    def claim_pending(
        self, tenant_id: str | None, limit: int, claim_token: str, lease_seconds: float
    ) -> list[OutboxRow]:
        now = self._clock()
        claimed: list[OutboxRow] = []
        with self._lock:
            for row in sorted(self._rows.values(), key=lambda r: r.sequence):
                if len(claimed) >= limit:
                    break
                if row.status is not OutboxStatus.PENDING:
                    continue
                if tenant_id is not None and row.tenant_id != tenant_id:
                    continue
                if row.claimed_until is not None and row.claimed_until > now:
                    continue
                row = replace(row, claimed_by=claim_token, claimed_until=now + lease_seconds)
                self._rows[row.id] = row
                claimed.append(row)
        return claimed

    def mark_published(self, ids: Iterable[str], claim_token: str) -> int:
        # Not conditional on still holding the lease: the broker confirmed it, so it *is* published.
        changed = 0
        now = self._clock()
        with self._lock:
            for event_id in ids:
                row = self._rows.get(event_id)
                if row is None or row.status is OutboxStatus.PUBLISHED:
                    continue
                self._rows[event_id] = replace(
                    row, status=OutboxStatus.PUBLISHED, published_at=now, claimed_by=None, claimed_until=None
                )
                changed += 1
        return changed

    def release(self, ids: Iterable[str], claim_token: str, error: str | None = None) -> int:
        changed = 0
        with self._lock:
            for event_id in ids:
                row = self._rows.get(event_id)
                if row is None or row.status is not OutboxStatus.PENDING or row.claimed_by != claim_token:
                    continue  # someone else owns it now (our lease expired); leave their claim alone
                self._rows[event_id] = replace(
                    row,
                    claimed_by=None,
                    claimed_until=None,
                    attempts=row.attempts + (1 if error else 0),
                    last_error=error if error else row.last_error,
                )
                changed += 1
        return changed

    def reopen(self, ids: Iterable[str]) -> int:
        changed = 0
        with self._lock:
            for event_id in ids:
                row = self._rows.get(event_id)
                if row is None or row.status is OutboxStatus.PENDING:
                    continue
                self._rows[event_id] = replace(row, status=OutboxStatus.PENDING, published_at=None)
                changed += 1
        return changed

    def get(self, event_id: str) -> OutboxRow | None:
        with self._lock:
            return self._rows.get(event_id)

    def count(self, tenant_id: str | None = None, status: OutboxStatus | None = None) -> int:
        with self._lock:
            return sum(
                1
                for r in self._rows.values()
                if (tenant_id is None or r.tenant_id == tenant_id) and (status is None or r.status is status)
            )

    def rows(self) -> list[OutboxRow]:
        with self._lock:
            return sorted(self._rows.values(), key=lambda r: r.sequence)
