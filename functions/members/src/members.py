"""Member handlers (tenant owners and admins): add, list, change role, remove.

Memberships live in Appwrite Teams, which has no transactions, so each change is made in Teams first
and then recorded (audit entry + outbox event) in one TablesDB transaction; if recording fails, the
Teams change is undone. The "at least one owner" rule is checked before the change and again after
it, so two owners demoting each other at the same moment cannot leave the tenant without one: the
later check sees no owner left and reverts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appwrite.services.teams import Teams
from appwrite.services.users import Users

from bigtech import accounts, appwrite_access
from bigtech.accounts import Member
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, Event, commit_change
from bigtech.errors import Conflict, Forbidden, NotFound
from bigtech.http import Request, created
from bigtech.identity import Identity, current
from bigtech.pagination import PageQuery, listing, page_queries, paginate
from bigtech.permissions import OWNER, can_assign

from .models import AddMember, ChangeRole


def add(request: Request) -> Any:
    body = request.model(AddMember)
    identity = current(request)
    _may_assign(identity, body.role)
    client = appwrite_access.key_client(request)
    teams = Teams(client)
    tenant_id = identity.tenant_id or ""
    user_id, user_created = accounts.find_or_create_user(Users(client), body.email, body.name)
    member = accounts.add_membership(teams, tenant_id, user_id, body.role)
    if member is None:
        raise Conflict("This user is already a member of the tenant.", code="already_member")
    entry = _record(
        request, identity, "members.add", member,
        {"email": body.email, "role": body.role, "user_created": user_created},
        Event("member.added", tenant_id, {"user_id": user_id, "role": body.role}),
        undo=lambda: teams.delete_membership(tenant_id, member.membership_id),
    )
    return created({"member": member.to_public(), "user_created": user_created, "audit_id": audit_id(entry)})


def list_members(request: Request) -> Any:
    page = request.query_model(PageQuery)
    identity = current(request)
    teams = appwrite_access.teams(request)
    memberships = listing(
        lambda: teams.list_memberships(identity.tenant_id or "", page_queries(page), total=False).memberships)
    return paginate([accounts.member_from(m) for m in memberships], page, Member.to_public,
                    lambda member: member.membership_id)


def change_role(request: Request, user_id: str) -> Any:
    body = request.model(ChangeRole)
    identity = current(request)
    teams = appwrite_access.teams(request)
    tenant_id = identity.tenant_id or ""
    member = _member(teams, tenant_id, user_id)
    _may_manage(identity, member)
    _may_assign(identity, body.role)
    if member.role == body.role:
        return {"member": member.to_public(), "changed": False, "audit_id": None}
    demoting_owner = member.role == OWNER
    if demoting_owner:
        _keep_an_owner(teams, tenant_id, lambda count: count - 1)
    teams.update_membership(tenant_id, member.membership_id, [body.role])

    def restore() -> None:
        teams.update_membership(tenant_id, member.membership_id, [member.role or body.role])

    if demoting_owner:
        _recheck_owner(teams, tenant_id, restore)
    updated = Member(member.user_id, member.membership_id, body.role, member.name, member.email, member.joined)
    entry = _record(
        request, identity, "members.update", member, {"from": member.role, "to": body.role},
        Event("member.role_changed", tenant_id, {"user_id": user_id, "from": member.role, "to": body.role}),
        undo=restore,
    )
    return {"member": updated.to_public(), "changed": True, "audit_id": audit_id(entry)}


def remove(request: Request, user_id: str) -> Any:
    identity = current(request)
    teams = appwrite_access.teams(request)
    tenant_id = identity.tenant_id or ""
    member = _member(teams, tenant_id, user_id)
    _may_manage(identity, member)
    removing_owner = member.role == OWNER
    if removing_owner:
        _keep_an_owner(teams, tenant_id, lambda count: count - 1)
    teams.delete_membership(tenant_id, member.membership_id)

    def restore() -> None:
        accounts.add_membership(teams, tenant_id, member.user_id, member.role or OWNER)

    if removing_owner:
        _recheck_owner(teams, tenant_id, restore)
    entry = _record(
        request, identity, "members.remove", member, {"role": member.role},
        Event("member.removed", tenant_id, {"user_id": user_id, "role": member.role}),
        undo=restore,
    )
    return {"removed": member.to_public(), "audit_id": audit_id(entry)}


# -- rules -----------------------------------------------------------------------------------------

def _member(teams: Teams, tenant_id: str, user_id: str) -> Member:
    member = accounts.find_member(teams, tenant_id, user_id) if user_id else None
    if member is None:
        raise NotFound("No such member in this tenant.", code="member_not_found")
    return member


def _may_assign(identity: Identity, role: str) -> None:
    if not can_assign(identity.role, role):
        raise Forbidden("Only owners may make someone an owner.", code="cannot_assign_owner",
                        details=[{"field": "role", "message": "Admins cannot assign the owner role."}])


def _may_manage(identity: Identity, member: Member) -> None:
    if member.role == OWNER and not can_assign(identity.role, OWNER):
        raise Forbidden("Only owners may change or remove an owner.", code="cannot_manage_owner")


def _keep_an_owner(teams: Teams, tenant_id: str, after: Callable[[int], int]) -> None:
    if after(accounts.owner_count(teams, tenant_id)) < 1:
        raise Conflict("A tenant must keep at least one owner.", code="last_owner")


def _recheck_owner(teams: Teams, tenant_id: str, restore: Callable[[], None]) -> None:
    """After the change: if a concurrent change left no owner, undo ours and refuse."""
    if accounts.owner_count(teams, tenant_id) < 1:
        restore()
        raise Conflict("A tenant must keep at least one owner.", code="last_owner")


def _record(request: Request, identity: Identity, action: str, member: Member, details: dict[str, Any],
            event: Event, undo: Callable[[], None]) -> Any:
    tables = appwrite_access.tables(request)
    try:
        entry, _ = commit_change(tables, AuditTrail.tenant(identity.database_id), Actor.of(identity), action=action,
                                 resource=("member", member.user_id), details=details, events=[event])
    except Exception:
        undo()  # the change must not stand without its audit entry
        raise
    return entry
