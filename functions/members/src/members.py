"""Member handlers (tenant owners and admins): list, change role, remove (adding is ``invitations``).

Each change is made in Teams, then recorded (``recording.record``). Only accepted members are found
here: a pending invitation cannot be promoted, demoted or granted credits. The "at least one owner"
rule is checked before the change and again after it, so two owners demoting each other at the same
moment cannot leave the tenant without one: the later check sees no owner left and reverts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appwrite.query import Query
from appwrite.services.teams import Teams

from bigtech import accounts, appwrite_access
from bigtech.accounts import Member
from bigtech.audit import audit_id
from bigtech.audited import Event
from bigtech.errors import Conflict, Forbidden, NotFound
from bigtech.http import Request
from bigtech.identity import Identity, current
from bigtech.pagination import PageQuery, listing, paginate
from bigtech.permissions import OWNER, can_assign

from .models import ChangeRole
from .recording import may_assign, record


def list_members(request: Request) -> Any:
    """Accepted members only (pending invitations are ``GET /invitations``); the inviter is never listed."""
    page = request.query_model(PageQuery)
    identity = current(request)
    teams = appwrite_access.teams(request)
    queries = [Query.equal("confirm", [True]), Query.limit(page.limit + 2)]  # +1 for "more", +1 for the inviter
    queries += [Query.cursor_after(page.cursor)] if page.cursor else []
    listed = listing(lambda: teams.list_memberships(identity.tenant_id or "", queries, total=page.total))
    members = [accounts.member_from(m) for m in listed.memberships if not accounts.is_service_membership(m)]
    total = listed.total - _inviters(teams, identity.tenant_id or "") if page.total else None
    return paginate(members[: page.limit + 1], page, Member.to_public, lambda member: member.membership_id,
                    total=total)


def _inviters(teams: Teams, tenant_id: str) -> int:
    """Appwrite's count includes the inviter's service membership: one more call, only for ``?total=true``
    (found by its name, then told apart by its role, so a member who calls themselves so still counts)."""
    queries = [Query.equal("confirm", [True]), Query.equal("userName", [accounts.INVITER_NAME]), Query.limit(10)]
    found = teams.list_memberships(tenant_id, queries, total=False).memberships
    return sum(1 for membership in found if accounts.is_service_membership(membership))


def change_role(request: Request, user_id: str) -> Any:
    body = request.model(ChangeRole)
    identity = current(request)
    teams = appwrite_access.teams(request)
    tenant_id = identity.tenant_id or ""
    member = _member(teams, tenant_id, user_id)
    _may_manage(identity, member)
    may_assign(identity, body.role)
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
    entry = record(
        request, identity, "members.update", ("member", member.user_id), {"from": member.role, "to": body.role},
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
    entry = record(
        request, identity, "members.remove", ("member", member.user_id), {"role": member.role},
        Event("member.removed", tenant_id, {"user_id": user_id, "role": member.role}),
        undo=restore,
    )
    return {"member": member.to_public(), "removed": True, "audit_id": audit_id(entry)}


# -- rules -----------------------------------------------------------------------------------------

def _member(teams: Teams, tenant_id: str, user_id: str) -> Member:
    member = accounts.find_member(teams, tenant_id, user_id) if user_id else None
    if member is None:
        raise NotFound("No such member in this tenant.", code="member_not_found")
    return member


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
