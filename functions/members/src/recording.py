"""What every member change shares: who may grant which role, and the audit entry + event of a change.

Memberships live in Appwrite Teams, which has no transactions, so each change is made in Teams first
and then recorded (audit entry + outbox event) in one TablesDB transaction; if recording fails, the
Teams change is undone (``undo``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bigtech import appwrite_access
from bigtech.audit import AuditTrail
from bigtech.audited import Actor, Event, commit_change
from bigtech.errors import Forbidden
from bigtech.http import Request
from bigtech.identity import Identity
from bigtech.permissions import can_assign


def may_assign(identity: Identity, role: str) -> None:
    if not can_assign(identity.role, role):
        raise Forbidden("Only owners may make someone an owner.", code="cannot_assign_owner",
                        details=[{"field": "role", "message": "Admins cannot assign the owner role."}])


def record(request: Request, identity: Identity, action: str, resource: tuple[str, str], details: dict[str, Any],
           event: Event, undo: Callable[[], None]) -> Any:
    tables = appwrite_access.tables(request)
    try:
        entry, _ = commit_change(tables, AuditTrail.tenant(identity.database_id), Actor.of(identity), action=action,
                                 resource=resource, details=details, events=[event])
    except Exception:
        undo()  # the change must not stand without its audit entry
        raise
    return entry
