"""Stage an event in a tenant's ``outbox`` table, in the same transaction as the change it reports.

The row id is the event id and the columns are the envelope's (docs/events.md#the-envelope: ``{id, type, tenant_id,
occurred_at, actor, data, version}``) plus the relay's bookkeeping (``status``, ``attempts``, claim
lease). Delivery is the relay's job; ``envelope_from_row`` turns a row back into the envelope.

With each row goes a marker in the core ``outbox_pending`` table (row id = event id, ``tenant_id``), in the
same transaction: the relay's schedule reads the markers to visit only tenants with pending rows, and
deletes a marker once its row is no longer pending (``bigtech.bus.pending``, docs/events.md). A marker is a
``create`` of a fresh row, so concurrent business transactions never conflict over it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .audit.chain import canonical_json, normalise_datetime
from .bus.envelope import EventEnvelope
from .schema_constants import CORE_DATABASE_ID, OUTBOX_PENDING_TABLE, tenant_database_id
from .uow import UnitOfWork

OUTBOX_TABLE = "outbox"


def new_event(event_type: str, tenant_id: str, data: Mapping[str, Any] | None = None, *, actor: str | None = None,
              occurred_at: datetime | None = None) -> EventEnvelope:
    return EventEnvelope(type=event_type, tenant_id=tenant_id, actor=actor, data=dict(data or {}),
                         occurred_at=occurred_at or datetime.now(UTC))


def outbox_row(envelope: EventEnvelope) -> dict[str, Any]:
    return {
        "type": envelope.type,
        "tenant_id": envelope.tenant_id,
        "occurred_at": normalise_datetime(envelope.occurred_at),
        "actor": envelope.actor,
        "payload": canonical_json(envelope.data),
        "version": envelope.version,
        "status": "pending",
        "attempts": 0,
    }


def stage_event(unit: UnitOfWork, event_type: str, tenant_id: str, data: Mapping[str, Any] | None = None, *,
                actor: str | None = None, database_id: str | None = None) -> EventEnvelope:
    """Stage ``event_type`` in ``tenant_id``'s outbox; returns the envelope (its id is the row id)."""
    envelope = new_event(event_type, tenant_id, data, actor=actor)
    unit.create(database_id or tenant_database_id(tenant_id), OUTBOX_TABLE, envelope.id, outbox_row(envelope))
    unit.create(CORE_DATABASE_ID, OUTBOX_PENDING_TABLE, envelope.id, pending_marker(tenant_id))
    return envelope


def pending_marker(tenant_id: str) -> dict[str, Any]:
    """The core ``outbox_pending`` row staged with each outbox row (its id is the event id)."""
    return {"tenant_id": tenant_id}


def envelope_from_row(row_id: str, data: Mapping[str, Any]) -> EventEnvelope:
    """The envelope an outbox row holds (for the relay)."""
    return EventEnvelope(
        id=row_id,
        type=data["type"],
        tenant_id=data["tenant_id"],
        occurred_at=data["occurred_at"],
        actor=data.get("actor"),
        data=json.loads(data.get("payload") or "{}"),
        version=int(data.get("version") or 1),
    )
