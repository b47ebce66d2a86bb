"""The plugin's rows in the tenant database: endpoints, messages, deliveries (retry state) and attempts (log).

Row ids carry the idempotency: a message's id is its event id (a redelivered event is the same message),
a delivery's id is derived from (endpoint, message), an attempt's from (delivery, attempt number).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.appwrite_access import is_not_found, is_unique_violation
from bigtech.schema.tenant import tenant_database_id

ENDPOINTS, MESSAGES, DELIVERIES, ATTEMPTS = "webhook_endpoints", "webhook_messages", "webhook_deliveries", \
    "webhook_attempts"
PAGE = 100


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def delivery_id(endpoint_id: str, message_id: str) -> str:
    return hashlib.sha256(f"{endpoint_id}\x00{message_id}".encode()).hexdigest()[:32]


def attempt_id(delivery: str, attempt: int) -> str:
    return hashlib.sha256(f"{delivery}\x00{attempt}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    description: str
    events: tuple[str, ...]
    enabled: bool
    sealed_secret: str | None
    sealed_previous: str | None
    previous_until: datetime | None
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: str | None

    @classmethod
    def of(cls, row: Any) -> Endpoint:
        data = row.data
        try:
            events = json.loads(data.get("events") or '["*"]')
        except ValueError:
            events = []
        return cls(row.id, data.get("url") or "", data.get("description") or "",
                   tuple(e for e in events if isinstance(e, str)), bool(data.get("enabled")),
                   data.get("secret"), data.get("previous_secret"), parse_time(data.get("previous_until")),
                   data.get("disabled_reason"), parse_time(data.get("failing_since")),
                   getattr(row, "createdat", None))

    def to_public(self) -> dict[str, Any]:
        """Never the secret: it is shown once, when made."""
        return {"id": self.id, "url": self.url, "description": self.description, "events": list(self.events),
                "enabled": self.enabled, "disabled_reason": self.disabled_reason,
                "failing_since": iso(self.failing_since) if self.failing_since else None,
                "rotating_until": iso(self.previous_until) if self.previous_until else None,
                "created_at": self.created_at}


class Store:
    def __init__(self, tables: TablesDB, tenant_id: str) -> None:
        self.tables = tables
        self.tenant_id = tenant_id
        self.database_id = tenant_database_id(tenant_id)

    # -- endpoints -----------------------------------------------------------------------------------

    def endpoints(self) -> list[Endpoint]:
        rows = self.tables.list_rows(self.database_id, ENDPOINTS, [Query.limit(PAGE)], total=False).rows
        return sorted(map(Endpoint.of, rows), key=lambda e: (e.created_at or "", e.id))

    def endpoint(self, endpoint_id: str) -> Endpoint | None:
        row = self._get(ENDPOINTS, endpoint_id)
        return Endpoint.of(row) if row is not None else None

    def update_endpoint(self, endpoint_id: str, data: dict[str, Any]) -> None:
        self.tables.update_row(self.database_id, ENDPOINTS, endpoint_id, data)

    # -- messages and deliveries ------------------------------------------------------------------------

    def message(self, message_id: str) -> Any | None:
        return self._get(MESSAGES, message_id)

    def create_message(self, message_id: str, event_type: str, payload: str, occurred_at: str) -> None:
        self._create_once(MESSAGES, message_id, {"type": event_type, "payload": payload, "occurred_at": occurred_at})

    def create_delivery(self, endpoint_id: str, message_id: str, now: datetime) -> str:
        row_id = delivery_id(endpoint_id, message_id)
        self._create_once(DELIVERIES, row_id, {"endpoint_id": endpoint_id, "event_id": message_id, "attempt": 0,
                                               "status": "pending", "step": 0, "next_at": iso(now)})
        return row_id

    def delivery(self, row_id: str) -> Any | None:
        return self._get(DELIVERIES, row_id)

    def due_deliveries(self, now: datetime, limit: int = PAGE) -> list[Any]:
        queries = [Query.equal("status", ["pending"]), Query.less_than_equal("next_at", iso(now)),
                   Query.order_asc("next_at"), Query.limit(limit)]
        return self.tables.list_rows(self.database_id, DELIVERIES, queries, total=False).rows

    def next_pending_at(self) -> datetime | None:
        queries = [Query.equal("status", ["pending"]), Query.order_asc("next_at"), Query.limit(1)]
        rows = self.tables.list_rows(self.database_id, DELIVERIES, queries, total=False).rows
        return parse_time(rows[0].data.get("next_at")) if rows else None

    def deliveries_of(self, *, endpoint_id: str | None = None, message_id: str | None = None,
                      since: datetime | None = None, limit: int = PAGE, cursor: str | None = None) -> list[Any]:
        queries = [Query.order_desc("$createdAt"), Query.limit(limit)]
        if endpoint_id:
            queries.append(Query.equal("endpoint_id", [endpoint_id]))
        if message_id:
            queries.append(Query.equal("event_id", [message_id]))
        if since:
            queries.append(Query.greater_than_equal("$createdAt", iso(since)))
        if cursor:
            queries.append(Query.cursor_after(cursor))
        return self.tables.list_rows(self.database_id, DELIVERIES, queries, total=False).rows

    def update_delivery(self, row_id: str, data: dict[str, Any]) -> None:
        self.tables.update_row(self.database_id, DELIVERIES, row_id, data)

    def attempts(self, *, endpoint_id: str | None = None, message_id: str | None = None, limit: int = 50,
                 cursor: str | None = None) -> list[Any]:
        queries = [Query.order_desc("attempted_at"), Query.limit(limit)]
        if endpoint_id:
            queries.append(Query.equal("endpoint_id", [endpoint_id]))
        if message_id:
            queries.append(Query.equal("event_id", [message_id]))
        if cursor:
            queries.append(Query.cursor_after(cursor))
        return self.tables.list_rows(self.database_id, ATTEMPTS, queries, total=False).rows

    # -- helpers --------------------------------------------------------------------------------------

    def _get(self, table: str, row_id: str) -> Any | None:
        try:
            return self.tables.get_row(self.database_id, table, row_id)
        except AppwriteException as error:
            if is_not_found(error) or error.code == 400:
                return None
            raise

    def _create_once(self, table: str, row_id: str, data: dict[str, Any]) -> bool:
        """Create the row unless it exists (a redelivered event, a replay): ``False`` when it did."""
        try:
            self.tables.create_row(self.database_id, table, row_id, data)
        except AppwriteException as error:
            if is_unique_violation(error) or error.code == 409:
                return False
            raise
        return True
