"""The invitee accepted: record who joined (audit entry + ``member.added``), from Appwrite's event.

Acceptance happens between the invitee's browser and Appwrite (``teams.updateMembershipStatus``), so
Bigtech learns of it from the event ``teams.*.memberships.*.update.status``, to which this function is
subscribed. The event's payload is only a hint: the membership is read back with the function's key
and recorded only when it is confirmed, its team is a tenant and it is not the inviter's; a join
already recorded (same membership id) is not recorded twice. Appwrite sets ``x-appwrite-trigger``
itself, so no HTTP caller can reach this path.
"""

from __future__ import annotations

from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams

from bigtech import accounts, appwrite_access
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, Event, commit_change
from bigtech.tenancy import find_tenant, valid_tenant_id

ACTION = "members.join"


def on_accepted(context: Any) -> Any:
    body = context.req.body_json if context.req.body_text else {}
    body = body if isinstance(body, dict) else {}
    tenant_id, membership_id = str(body.get("teamId") or ""), str(body.get("$id") or "")
    if not valid_tenant_id(tenant_id) or not membership_id:
        return context.res.json({"recorded": False, "reason": "not a tenant membership"})
    client = appwrite_access.key_client(context)
    try:
        membership = Teams(client).get_membership(tenant_id, membership_id)
    except AppwriteException as error:
        if error.code == 404:
            return context.res.json({"recorded": False, "reason": "membership gone"})
        raise
    member = accounts.member_from(membership)
    if not member.confirmed or accounts.is_service_membership(membership):
        return context.res.json({"recorded": False, "reason": "not an accepted member"})
    tables = TablesDB(client)
    tenant = find_tenant(tables, tenant_id)
    if tenant is None:  # a team that is no tenant (Appwrite teams are not all Bigtech's)
        return context.res.json({"recorded": False, "reason": "not a tenant"})
    database_id = tenant.database_id
    if _already_recorded(tables, database_id, membership_id):
        return context.res.json({"recorded": False, "reason": "already recorded"})
    entry, _ = commit_change(
        tables, AuditTrail.tenant(database_id), Actor(member.user_id, member.role), action=ACTION,
        resource=("invitation", membership_id), details={"user_id": member.user_id, "role": member.role},
        events=[Event("member.added", tenant_id, {"user_id": member.user_id, "role": member.role})],
    )
    context.log(f"members: {member.user_id} joined {tenant_id} as {member.role}")
    return context.res.json({"recorded": True, "audit_id": audit_id(entry)})


def _already_recorded(tables: TablesDB, database_id: str, membership_id: str) -> bool:
    rows = tables.list_rows(database_id, "audit", [Query.equal("action", [ACTION]),
                                                   Query.equal("resource_id", [membership_id]), Query.limit(1)],
                            total=False).rows
    return bool(rows)
