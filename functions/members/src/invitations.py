"""Invitations: adding a member by e-mail asks them first (Appwrite's team invitation flow).

``POST /`` never adds anyone. Bigtech's inviter (``bigtech.accounts``), an Appwrite owner of the
tenant's team, asks Appwrite to invite the address with ``BIGTECH_INVITE_REDIRECT_URL``; Appwrite
e-mails a link carrying ``membershipId``, ``userId``, ``secret`` and ``teamId``, and the membership
stays ``confirm: false`` — granting nothing — until the invitee accepts with the Web SDK
(``teams.updateMembershipStatus``), which signs them in; someone new then sets a password with
``account.updatePassword``. The answer is the same whether or not the address has an account.
"""

from __future__ import annotations

import os
import re
from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from bigtech import accounts, appwrite_access
from bigtech.accounts import Member
from bigtech.audit import audit_id
from bigtech.audited import Event
from bigtech.errors import Conflict, NotFound
from bigtech.http import Request, created
from bigtech.identity import Identity, current
from bigtech.pagination import ID_PATTERN, PageQuery, listing, page_queries, paginate
from bigtech.settings import load_settings

from .models import AddMember
from .recording import may_assign, record

REDIRECT_URL_VARIABLE = "BIGTECH_INVITE_REDIRECT_URL"
DEFAULT_REDIRECT_URL = "http://localhost:3000/invitations/accept"  # a registered web platform in development
INVITER_JWT_SECONDS = 60  # the inviter's JWT never leaves this execution


def redirect_url() -> str:
    """Where the invitation e-mail's link points: the frontend page that accepts (see docs/security.md)."""
    return (os.environ.get(REDIRECT_URL_VARIABLE) or "").strip() or DEFAULT_REDIRECT_URL


def invite(request: Request) -> Any:
    body = request.model(AddMember)
    identity = current(request)
    may_assign(identity, body.role)
    key = appwrite_access.key_client(request)
    tenant_id = identity.tenant_id or ""
    users, teams = Users(key), Teams(key)
    inviter_id = accounts.ensure_inviter(users)
    accounts.ensure_inviter_membership(teams, tenant_id, inviter_id)
    try:
        membership = Teams(_as_inviter(users, inviter_id, identity)).create_membership(
            tenant_id, [body.role], email=body.email, url=redirect_url(), name=body.name or None)
    except AppwriteException as error:
        if error.type == "membership_already_confirmed":
            raise Conflict("This user is already a member of the tenant.", code="already_member") from None
        raise
    invitation = accounts.member_from(membership)
    if invitation.role != body.role:  # invited again with another role: Appwrite keeps the first roles
        teams.update_membership(tenant_id, invitation.membership_id, [body.role])
    public = {**invitation.to_invitation(), "email": body.email, "role": body.role}
    entry = record(
        request, identity, "members.add", ("invitation", invitation.membership_id),
        {"email": body.email, "role": body.role},
        Event("member.invited", tenant_id, {"invitation_id": invitation.membership_id, "role": body.role}),
        undo=lambda: None,  # an invitation without its audit entry is harmless: it grants nothing until accepted
    )
    return created({"invitation": public, "audit_id": audit_id(entry)})


def list_invitations(request: Request) -> Any:
    """Pending invitations of the tenant (accepted ones are members; revoked ones are gone)."""
    page = request.query_model(PageQuery)
    identity = current(request)
    teams = appwrite_access.teams(request)
    queries = [Query.equal("confirm", [False]), *page_queries(page)]
    listed = listing(lambda: teams.list_memberships(identity.tenant_id or "", queries, total=page.total))
    return paginate([accounts.member_from(m) for m in listed.memberships], page, Member.to_invitation,
                    lambda member: member.membership_id, total=listed.total if page.total else None)


def revoke(request: Request, invitation_id: str) -> Any:
    identity = current(request)
    teams = appwrite_access.teams(request)
    tenant_id = identity.tenant_id or ""
    valid = bool(re.match(ID_PATTERN, invitation_id or ""))
    invitation = accounts.find_membership(teams, tenant_id, invitation_id) if valid else None
    if invitation is None or invitation.confirmed:
        raise NotFound("No such pending invitation in this tenant.", code="invitation_not_found")
    may_assign(identity, invitation.role or "owner")  # who may not invite as owner may not revoke it either
    teams.delete_membership(tenant_id, invitation.membership_id)
    entry = record(
        request, identity, "members.invitation_revoke", ("invitation", invitation.membership_id),
        {"email": invitation.email, "role": invitation.role},
        Event("member.invitation_revoked", tenant_id, {"invitation_id": invitation.membership_id}),
        undo=lambda: None,  # re-creating it would need the invitee's consent again; the revocation stands
    )
    return {"invitation": invitation.to_invitation(), "revoked": True, "audit_id": audit_id(entry)}


def _as_inviter(users: Users, inviter_id: str, identity: Identity) -> Client:
    """A client acting as the inviter. Appwrite rate-limits invitations per client IP (10 an hour), so the
    inviting user's IP is forwarded: the limit then falls on them, not on every tenant sharing the
    functions' address (where the server trusts ``x-forwarded-for``)."""
    jwt = users.create_jwt(inviter_id, duration=INVITER_JWT_SECONDS).jwt
    settings = load_settings()
    client = Client().set_endpoint(settings.endpoint or "").set_project(settings.project_id or "").set_jwt(jwt)
    if identity.ip:
        client.add_header("x-forwarded-for", identity.ip)
    return client
