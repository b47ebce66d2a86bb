"""Direct-mode delivery bookkeeping in each tenant's `deliveries` table (schema: `bigtech.schema.tenant.DELIVERIES`).

Row id = `processed_row_id(subscriber, event id)`, so one record per (subscriber, event) without a look-up. The relay
writes only what it must (a failure, a dead letter, or a success on a row that needed bookkeeping); the ops task
lists the `dead` rows and revives them for a replay.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..schema.tenant import tenant_database_id
from .appwrite_claims import Tenants
from .appwrite_rows import QUERY_VALUES_MAX, chunks, epoch, is_missing, list_raw, unavailable
from .dedupe import processed_row_id
from .deliveries import DeliveryRecord, DeliveryStatus
from .envelope import EventEnvelope
from .errors import InvalidEvent

DELIVERIES_TABLE = "deliveries"


class TablesDeliveryStore:
    """`DeliveryStore` over the tenants' `deliveries` tables. `tenants` is what `dead_letters`/`revive` walk."""

    def __init__(self, tables: TablesDB, tenants: Tenants | Sequence[str] = ()) -> None:
        self.tables = tables
        self._tenants = tenants
        self._known: dict[tuple[str, str], DeliveryRecord] = {}

    def _tenant_ids(self) -> list[str]:
        return list(self._tenants() if callable(self._tenants) else self._tenants)

    # -- DeliveryStore ----------------------------------------------------------------------------------------
    def get(self, subscriber: str, event_id: str, tenant_id: str | None = None) -> DeliveryRecord | None:
        if (subscriber, event_id) in self._known:
            return self._known[(subscriber, event_id)]
        for tenant in [tenant_id] if tenant_id else self._tenant_ids():
            rows = self._list(tenant, [Query.equal("$id", [processed_row_id(subscriber, event_id)]), Query.limit(1)])
            if rows:
                return self._remember(self._record(rows[0]))
        return None

    def lookup(
        self, subscribers: Sequence[str], envelopes: Sequence[EventEnvelope]
    ) -> dict[tuple[str, str], DeliveryRecord]:
        by_tenant: dict[str, list[str]] = {}
        for envelope in envelopes:
            by_tenant.setdefault(envelope.tenant_id, []).extend(
                processed_row_id(name, envelope.id) for name in subscribers)
        found: dict[tuple[str, str], DeliveryRecord] = {}
        for tenant, row_ids in by_tenant.items():
            for chunk in chunks(row_ids):
                for raw in self._list(tenant, [Query.equal("$id", list(chunk)), Query.limit(QUERY_VALUES_MAX)]):
                    record = self._remember(self._record(raw))
                    found[(record.subscriber, record.event_id)] = record
        return found

    def record_success(self, subscriber: str, envelope: EventEnvelope) -> DeliveryRecord:
        old = self._known.get((subscriber, envelope.id))
        return self._write(subscriber, envelope, DeliveryStatus.DELIVERED, (old.attempts if old else 0) + 1,
                           old.last_error if old else None)

    def record_failure(
        self, subscriber: str, envelope: EventEnvelope, error: str, max_attempts: int
    ) -> DeliveryRecord:
        old = self._known.get((subscriber, envelope.id))
        attempts = (old.attempts if old else 0) + 1
        status = DeliveryStatus.DEAD if attempts >= max_attempts else DeliveryStatus.FAILED
        return self._write(subscriber, envelope, status, attempts, error)

    def dead_letters(self, subscriber: str | None = None) -> list[DeliveryRecord]:
        records = []
        queries = [Query.equal("status", DeliveryStatus.DEAD.value)]
        if subscriber is not None:
            queries.append(Query.equal("subscriber", subscriber))
        for tenant in self._tenant_ids():
            cursor = None
            while True:
                page = [*queries, Query.order_asc("$sequence"), Query.limit(QUERY_VALUES_MAX)]
                if cursor:
                    page.append(Query.cursor_after(cursor))
                rows = self._list(tenant, page)
                records.extend(self._remember(self._record(raw)) for raw in rows)
                if len(rows) < QUERY_VALUES_MAX:
                    break
                cursor = rows[-1]["$id"]
        return records

    def revive(self, subscriber: str, event_ids: Iterable[str] | None = None) -> list[DeliveryRecord]:
        wanted = set(event_ids) if event_ids is not None else None
        revived = []
        for record in self.dead_letters(subscriber):
            if wanted is not None and record.event_id not in wanted:
                continue
            revived.append(self._write(subscriber, record.envelope, DeliveryStatus.FAILED, 0, record.last_error))
        return revived

    # -- internals --------------------------------------------------------------------------------------------
    def _write(self, subscriber: str, envelope: EventEnvelope, status: DeliveryStatus, attempts: int,
               last_error: str | None) -> DeliveryRecord:
        data = {
            "subscriber": subscriber,
            "event_id": envelope.id,
            "status": status.value,
            "attempts": attempts,
            "last_error": last_error[:1024] if last_error else None,
            "envelope": envelope.to_json(),
        }
        try:
            self.tables.upsert_row(tenant_database_id(envelope.tenant_id), DELIVERIES_TABLE,
                                   processed_row_id(subscriber, envelope.id), data)
        except AppwriteException as error:
            raise unavailable(f"recording a delivery for {subscriber}", error) from error
        return self._remember(DeliveryRecord(subscriber, envelope, status, attempts, last_error, time.time()))

    def _remember(self, record: DeliveryRecord) -> DeliveryRecord:
        self._known[(record.subscriber, record.event_id)] = record
        return record

    def _record(self, raw: dict[str, Any]) -> DeliveryRecord:
        try:
            envelope = EventEnvelope.from_json(json.loads(raw.get("envelope") or "{}"))
        except (InvalidEvent, ValueError) as exc:
            raise InvalidEvent(f"delivery {raw.get('$id')} holds no event: {exc}") from exc
        return DeliveryRecord(
            subscriber=raw["subscriber"],
            envelope=envelope,
            status=DeliveryStatus(raw["status"]),
            attempts=int(raw.get("attempts") or 0),
            last_error=raw.get("last_error"),
            updated_at=epoch(raw.get("$updatedAt")) or 0.0,
        )

    def _list(self, tenant: str, queries: list[str]) -> list[dict[str, Any]]:
        try:
            return list_raw(self.tables, tenant_database_id(tenant), DELIVERIES_TABLE, queries)
        except AppwriteException as error:
            if is_missing(error):
                return []
            raise unavailable(f"reading tenant_{tenant}.deliveries", error) from error
