"""The outbox as TablesDB rows: each tenant database's `outbox` table (schema: `bigtech.schema.tenant.OUTBOX`).

Claiming is a lease taken in one TablesDB transaction per chunk of rows: for each row an `increment` of
`claim_seq` bounded by `max = <claim_seq read> + 1` — a compare-and-set, since Appwrite refuses the increment when
another relay bumped the counter since our read — plus one `bulkUpdate` writing `claimed_by`/`claimed_until` on
the chunk's rows. A relay that loses the race loses the whole chunk (the commit fails), re-reads, and takes the
next unclaimed rows; so two relay runs at once never both hold a row. If a lease ever expires under a slow relay
and a second one publishes the row again, the consumers' `(consumer, event id)` dedupe still applies it once.

One store serves one relay run: it remembers which tenant database each claimed row lives in, which rows it
settled and how many rows it found pending per tenant, so the run can clear the core pending markers
(`bigtech.bus.pending`). `only_ids` narrows claiming to given rows.

The run an outbox row-create event started gets the row as the event's body (`fired`): it needs no list and no
transaction. It claims with ONE bounded increment, `claim_seq` 0 → 1 (`max = 1`: a compare-and-set that only a
row nobody ever claimed passes), writes no lease, and marks the row published with one more call. A row held that
way (`claim_seq > 0`, no `claimed_until`) is left alone by the sweeps until its `$updatedAt` (the increment sets
it) is older than `event_grace` (longer than any run lives): a crashed event run's row waits that long, never a
live one's. Every release writes an already expired lease instead, so a released row is claimable at once. So
a sweep claims a row when it is pending and: never claimed (`claim_seq = 0`, its CAS racing the event run's),
or its lease ran out, or it was claimed without a lease longer than the grace ago.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..outbox_writer import OUTBOX_TABLE, envelope_from_row
from ..retry import retry
from ..schema.tenant import tenant_database_id
from ..uow import commit
from .appwrite_rows import QUERY_VALUES_MAX, chunks, epoch, is_missing, iso, list_raw, unavailable
from .claims import OutboxRow, OutboxStatus
from .errors import InvalidEvent
from .pending import PendingMarkers

CLAIM_CHUNK = 99  # one increment per row + one bulk update of the lease: Appwrite allows 100 operations
CLAIM_ATTEMPTS = 6
EVENT_GRACE_SECONDS = 90.0  # longer than a relay run can live (its function timeout is 60 s)
# What a lost claim race looks like: the bounded increment refused, or the transaction's optimistic check.
LOST_RACE = frozenset({"column_limit_exceeded", "transaction_conflict", "row_update_conflict"})

Tenants = Callable[[], Iterable[str]]


def lost_race(error: AppwriteException) -> bool:
    return error.code in (400, 409) and (error.type or "") in LOST_RACE


class TablesOutboxStore:
    """`OutboxStore` over the tenants' `outbox` tables. `tenants` lists the tenant ids a run over all tenants
    (`tenant_id=None`) walks, e.g. the core `tenants` table."""

    def __init__(self, tables: TablesDB, tenants: Tenants | Sequence[str] = (), *,
                 clock: Callable[[], float] = time.time, claim_chunk: int = CLAIM_CHUNK,
                 only_ids: Sequence[str] = (), markers: PendingMarkers | None = None,
                 fired: dict[str, Any] | None = None, event_grace: float = EVENT_GRACE_SECONDS) -> None:
        self.tables = tables
        self._tenants = tenants
        self.only_ids = list(only_ids)[:QUERY_VALUES_MAX]
        self.fired = fired  # the row a row-create event carried: claimed alone, by one bounded increment
        self.event_grace = event_grace
        self._fired_claimed = False
        self._held_without_lease: set[str] = set()  # rows this store claimed as an event run (no lease)
        self.markers = markers
        self.settled: set[str] = set()  # rows this store marked published (no longer pending)
        self.pending_by_tenant: dict[str, int] = {}  # from the last `count(..., PENDING)`
        self.clock = clock
        self.claim_chunk = max(1, min(claim_chunk, CLAIM_CHUNK))
        self._home: dict[str, str] = {}  # event id -> tenant id, for the rows this store has seen
        self._attempts: dict[str, int] = {}
        self._rotation = 0

    # -- tenants ----------------------------------------------------------------------------------------------
    def tenant_ids(self, tenant_id: str | None = None) -> list[str]:
        if tenant_id is not None:
            return [tenant_id]
        found = list(self._tenants() if callable(self._tenants) else self._tenants)
        if found:  # start each claim round at a different tenant, so a big one cannot starve the others
            self._rotation = (self._rotation + 1) % len(found)
            found = found[self._rotation:] + found[:self._rotation]
        return found

    # -- OutboxStore ------------------------------------------------------------------------------------------
    def claim_pending(
        self, tenant_id: str | None, limit: int, claim_token: str, lease_seconds: float
    ) -> list[OutboxRow]:
        if self.fired is not None:  # an event run: that one row, claimed once; later calls find nothing more
            fired, self._fired_claimed = self._fired_claimed, True
            return [] if fired or tenant_id is None else self._claim_fired(tenant_id, self.fired)
        claimed: list[OutboxRow] = []
        for tenant in self.tenant_ids(tenant_id):
            while len(claimed) < limit:
                want = min(self.claim_chunk, limit - len(claimed))
                got = self._claim_chunk(tenant, want, claim_token, lease_seconds)
                claimed.extend(got)
                if len(got) < want:
                    break
            if len(claimed) >= limit:
                break
        return claimed

    def _claim_chunk(self, tenant: str, want: int, token: str, lease_seconds: float) -> list[OutboxRow]:
        database = tenant_database_id(tenant)

        def attempt() -> list[OutboxRow]:
            now = self.clock()
            try:
                rows = list_raw(self.tables, database, OUTBOX_TABLE, [
                    *([Query.equal("$id", self.only_ids)] if self.only_ids else []),
                    Query.equal("status", OutboxStatus.PENDING.value),
                    self._claimable(now),
                    Query.order_asc("$sequence"),
                    Query.limit(want),
                ])
            except AppwriteException as error:
                if is_missing(error):
                    return []  # no outbox (yet) in this tenant
                raise unavailable(f"listing {database}.outbox", error) from error
            rows = self._set_aside_poison(tenant, rows)
            if not rows:
                return []
            until = iso(now + lease_seconds)
            table = {"databaseId": database, "tableId": OUTBOX_TABLE}
            operations: list[dict[str, Any]] = [
                {**table, "rowId": row["$id"], "action": "increment",
                 "data": {"column": "claim_seq", "value": 1, "max": int(row.get("claim_seq") or 0) + 1}}
                for row in rows
            ]
            # The lease is the same for every row of the chunk: one bulk update, after the increments.
            operations.append({**table, "action": "bulkUpdate", "data": {
                "data": {"claimed_by": token, "claimed_until": until},
                "queries": [Query.equal("$id", [row["$id"] for row in rows])]}})
            commit(self.tables, operations)  # a lost race (another relay took some) is retried: re-read
            return [self._row(tenant, row, token, now + lease_seconds, fresh=not int(row.get("claim_seq") or 0))
                    for row in rows]

        def lost(error: BaseException) -> bool:
            return isinstance(error, AppwriteException) and lost_race(error)

        try:
            return retry(attempt, retry_on=lost, attempts=CLAIM_ATTEMPTS, base_delay=0.02, max_delay=0.64)
        except AppwriteException as error:
            if lost_race(error):
                return []  # heavily contended: the other relays are publishing these rows
            raise unavailable(f"claiming in {database}.outbox", error) from error

    def _claimable(self, now: float) -> str:
        """Pending rows a sweep may claim: never claimed, lease expired (or released), or held by an event run
        (no lease) for longer than the grace — that run is dead."""
        return Query.or_queries([
            Query.less_than("claimed_until", iso(now)),
            Query.and_queries([
                Query.is_null("claimed_until"),
                Query.or_queries([Query.equal("claim_seq", [0]),
                                  Query.less_than("$updatedAt", iso(now - self.event_grace))]),
            ]),
        ])

    def _claim_fired(self, tenant: str, raw: dict[str, Any]) -> list[OutboxRow]:
        """The event run's claim of the row its event carried: one bounded increment, `claim_seq` 0 → 1.

        Refused (nothing to do) when any relay claimed the row before, whatever the body says: a row-create
        event is only ever for a row nobody had claimed at creation, and `max = 1` makes that a compare-and-set.
        A body that is not a pending, never-claimed envelope is left to the sweeps (they set poison aside)."""
        if raw.get("status") != OutboxStatus.PENDING.value or int(raw.get("claim_seq") or 0) != 0:
            return []
        try:
            envelope_from_row(raw["$id"], raw)
        except (KeyError, ValueError, TypeError):
            return []
        database = tenant_database_id(tenant)
        try:
            self.tables.increment_row_column(database, OUTBOX_TABLE, raw["$id"], "claim_seq", 1, max=1)
        except AppwriteException as error:
            if is_missing(error) or lost_race(error):
                return []  # gone, or another relay claimed it first: that one publishes it
            raise unavailable(f"claiming in {database}.outbox", error) from error
        self._held_without_lease.add(raw["$id"])
        return [self._row(tenant, raw, token=None, until=None, fresh=True)]

    def _set_aside_poison(self, tenant: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows that are not events (hand-written, or from an incompatible version) go to status `dead` with the
        reason, instead of failing every relay run that reaches them."""
        good = []
        for raw in rows:
            try:
                envelope_from_row(raw["$id"], raw)
            except (KeyError, ValueError, TypeError) as exc:
                reason = f"not an event envelope: {type(exc).__name__}: {exc}"[:1024]
                try:
                    self.tables.update_row(tenant_database_id(tenant), OUTBOX_TABLE, raw["$id"],
                                           {"status": "dead", "last_error": reason})
                except AppwriteException as error:
                    raise unavailable("setting aside a bad outbox row", error) from error
                continue
            good.append(raw)
        return good

    def mark_published(self, ids: Iterable[str], claim_token: str) -> int:
        # Not conditional on still holding the lease: the broker confirmed it, so it *is* published.
        data = {"status": OutboxStatus.PUBLISHED.value, "published_at": iso(self.clock()), "claimed_by": None,
                "claimed_until": None}
        ids = list(ids)
        self.settled.update(ids)
        return self._bulk_update(ids, data, [Query.equal("status", OutboxStatus.PENDING.value)], "marking published")

    def release(self, ids: Iterable[str], claim_token: str, error: str | None = None) -> int:
        """Give rows back with an already expired lease (claimable at once; a row without any lease is one an
        event run holds). Only rows still ours: by token, or, for an event run's, still without a lease (no
        sweep takes such a row before the grace, which outlives this run)."""
        ids = list(ids)
        pending = Query.equal("status", OutboxStatus.PENDING.value)
        data: dict[str, Any] = {"claimed_by": None, "claimed_until": iso(self.clock())}
        changed = 0
        for held, only_ours in (
            ([i for i in ids if i not in self._held_without_lease], [pending, Query.equal("claimed_by", claim_token)]),
            ([i for i in ids if i in self._held_without_lease], [pending, Query.is_null("claimed_until")]),
        ):
            if not held:
                continue
            if not error:
                changed += self._bulk_update(held, data, only_ours, "releasing")
                continue
            for event_id in held:  # an attempt is counted per row: each carries its own count
                row_data = {**data, "attempts": self._attempts.get(event_id, 0) + 1, "last_error": error[:1024]}
                changed += self._bulk_update([event_id], row_data, only_ours, "releasing")
        return changed

    def reopen(self, ids: Iterable[str]) -> int:
        # An expired lease, not none: claimable by the next sweep at once (see `_claimable`).
        data = {"status": OutboxStatus.PENDING.value, "published_at": None, "claimed_by": None,
                "claimed_until": iso(self.clock())}
        ids = list(ids)
        self._locate([i for i in ids if i not in self._home])
        if self.markers is not None:  # pending again: the schedule must come back for them
            by_tenant: dict[str, list[str]] = {}
            for event_id in ids:
                if event_id in self._home:
                    by_tenant.setdefault(self._home[event_id], []).append(event_id)
            for tenant, tenant_ids in by_tenant.items():
                self.markers.mark(tenant, tenant_ids)
        return self._bulk_update(ids, data, [Query.equal("status", OutboxStatus.PUBLISHED.value)], "reopening")

    def get(self, event_id: str) -> OutboxRow | None:
        tenants = [self._home[event_id]] if event_id in self._home else self.tenant_ids()
        for tenant in tenants:
            rows = self._list(tenant, [Query.equal("$id", [event_id]), Query.limit(1)])
            if rows:
                return self._row(tenant, rows[0])
        return None

    def count(self, tenant_id: str | None = None, status: OutboxStatus | None = None) -> int:
        total = 0
        queries = [Query.limit(1)] + ([Query.equal("status", status.value)] if status is not None else [])
        for tenant in self.tenant_ids(tenant_id):
            try:
                found = int(self.tables.list_rows(tenant_database_id(tenant), OUTBOX_TABLE, queries).total)
            except AppwriteException as error:
                if not is_missing(error):
                    raise unavailable("counting outbox rows", error) from error
                found = 0
            total += found
            if status is OutboxStatus.PENDING:
                self.pending_by_tenant[tenant] = found
        return total

    def still_pending(self, tenant: str, ids: Sequence[str]) -> set[str]:
        """Which of these rows of ``tenant`` are still pending (one call per 100 ids): the markers to keep."""
        found: set[str] = set()
        for chunk in chunks(list(ids)):
            found.update(raw["$id"] for raw in self._list(tenant, [
                Query.equal("$id", list(chunk)), Query.equal("status", OutboxStatus.PENDING.value),
                Query.select(["$id"]), Query.limit(QUERY_VALUES_MAX)]))
        return found

    # -- internals --------------------------------------------------------------------------------------------
    def _row(self, tenant: str, raw: dict[str, Any], token: str | None = None,
             until: float | None = None, fresh: bool = False) -> OutboxRow:
        event_id = raw["$id"]
        self._home[event_id] = tenant
        self._attempts[event_id] = int(raw.get("attempts") or 0)
        try:
            envelope = envelope_from_row(event_id, raw)
        except (KeyError, ValueError, TypeError) as exc:
            raise InvalidEvent(f"outbox row {event_id} of tenant {tenant} is not an event: {exc}") from exc
        return OutboxRow(
            envelope=envelope,
            status=OutboxStatus.PUBLISHED if raw.get("status") == "published" else OutboxStatus.PENDING,
            attempts=int(raw.get("attempts") or 0),
            last_error=raw.get("last_error"),
            claimed_by=token if token is not None else raw.get("claimed_by"),
            claimed_until=until if until is not None else epoch(raw.get("claimed_until")),
            published_at=epoch(raw.get("published_at")),
            sequence=int(raw.get("$sequence") or 0),
            fresh=fresh,
        )

    def _list(self, tenant: str, queries: list[str]) -> list[dict[str, Any]]:
        try:
            return list_raw(self.tables, tenant_database_id(tenant), OUTBOX_TABLE, queries)
        except AppwriteException as error:
            if is_missing(error):
                return []
            raise unavailable(f"reading tenant_{tenant}.outbox", error) from error

    def _locate(self, ids: list[str]) -> None:
        """Find the tenant of rows this store has not seen (ops: replaying a dead letter by event id)."""
        if not ids:
            return
        for tenant in self.tenant_ids():
            for chunk in chunks(ids):
                for raw in self._list(tenant, [Query.equal("$id", list(chunk)), Query.select(["$id"]),
                                               Query.limit(QUERY_VALUES_MAX)]):
                    self._home[raw["$id"]] = tenant

    def _bulk_update(self, ids: Iterable[str], data: dict[str, Any], conditions: list[str], action: str) -> int:
        by_tenant: dict[str, list[str]] = {}
        for event_id in ids:
            tenant = self._home.get(event_id)
            if tenant is not None:
                by_tenant.setdefault(tenant, []).append(event_id)
        changed = 0
        for tenant, tenant_ids in by_tenant.items():
            for chunk in chunks(tenant_ids):
                try:
                    result = self.tables.update_rows(tenant_database_id(tenant), OUTBOX_TABLE, data,
                                                     [Query.equal("$id", list(chunk)), *conditions])
                except AppwriteException as error:
                    raise unavailable(f"{action} outbox rows", error) from error
                changed += int(result.total)
        return changed
