"""One audited change: the business operations, the audit entry and the outbox events, committed together.

Handlers describe a change and this module commits it through ``bigtech.uow.run`` (retried from fresh
reads on a concurrency conflict). The audit entry is written unsealed with the change and sealed into the
chain right after the commit (``bigtech.audit.writer``), so audited changes do not conflict with each
other over the chain's head::

    entry, tenant = audited.commit_change(
        tables, AuditTrail.platform(), identity, action="tenants.create", resource=("tenant", tenant_id),
        details={...}, stage=lambda unit: stage_tenant_row(unit, ...),
        events=[Event("tenant.created", tenant_id, {...})],
    )
    return {"tenant": ..., "audit_id": audit_id(entry)}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from appwrite.services.tables_db import TablesDB

from . import uow
from .audit.chain import AuditEntry
from .audit.writer import AuditTrail, stage_entry
from .outbox_writer import stage_event
from .uow import UnitOfWork

T = TypeVar("T")


@dataclass(frozen=True)
class Event:
    type: str
    tenant_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Actor:
    """Who the audit entry names: the user id, their role in this change, their IP and their display name.

    The name comes from what identity resolution already read (the membership list names the user, and
    a platform admin's ``Users.get`` does too): no extra Appwrite call. It is recorded in the entry's
    hashed ``details`` as ``actor_name`` (so the chain covers it and no column or migration is needed)
    and shown as the entry's ``actor_name`` by the audit routes.
    """

    user_id: str
    role: str | None = None
    ip: str | None = None
    name: str | None = None

    @classmethod
    def of(cls, identity: Any) -> Actor:
        return cls(identity.user_id, identity.role, getattr(identity, "ip", None),
                   getattr(identity, "display_name", None) or None)

    def stamp(self, details: Mapping[str, Any] | None) -> dict[str, Any]:
        """``details`` with the actor's display name, as the audit entry records it."""
        stamped = dict(details or {})
        if self.name:
            stamped.setdefault(ACTOR_NAME, self.name[:128])
        return stamped


ACTOR_NAME = "actor_name"


def commit_change(tables: TablesDB, trail: AuditTrail, actor: Actor, *, action: str,
                  resource: tuple[str, str] | None = None, details: Mapping[str, Any] | None = None,
                  stage: Callable[[UnitOfWork], T] | None = None, events: Sequence[Event] = (),
                  **retry: Any) -> tuple[AuditEntry, T | None]:
    """Commit ``stage``'s operations with the audit entry and ``events``; returns (entry, stage's result).

    ``stage`` runs once per attempt and may raise a BigtechError (e.g. 409 when a fresh read shows the
    change is no longer valid): nothing is committed then.
    """
    resource_type, resource_id = resource or (None, None)

    def build(unit: UnitOfWork) -> tuple[AuditEntry, T | None]:
        result = stage(unit) if stage is not None else None
        entry = stage_entry(tables, unit, trail, action=action, actor=actor.user_id, actor_role=actor.role,
                            resource_type=resource_type, resource_id=resource_id, details=actor.stamp(details),
                            ip=actor.ip)
        for event in events:
            stage_event(unit, event.type, event.tenant_id, {**event.data, "audit_id": entry.id},
                        actor=actor.user_id)
        return entry, result

    return uow.run(tables, build, **retry)

