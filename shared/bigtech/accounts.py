"""Appwrite users and teams as tenants and members: one team per tenant, membership roles as tenant roles.

Used by ``tenants`` (the owner of a new tenant), ``members`` (invitations) and identity. Every helper is
idempotent where it can be (a request sent again after a failure finds what the first attempt created).

Only *confirmed* memberships are members: an invitation is a membership with ``confirm: false`` until
the invitee accepts it, and it grants nothing before. Invitations are sent by Bigtech's **inviter**, a
service user (label ``bigtechinviter``, no e-mail, no password, so nobody can sign in as it) that is
an Appwrite team owner of each tenant team (marker role ``bigtech-inviter``): Appwrite only sends a
real invitation — instead of adding the user at once, as it does for an API key — when a team owner
asks. The inviter's memberships are not tenant memberships and are ignored everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from .permissions import OWNER, TENANT_ROLES

INVITER_LABEL = "bigtechinviter"  # only an API key can set labels: the proof that the user is ours
INVITER_ROLE = "bigtech-inviter"  # marks the inviter's membership (next to Appwrite's ``owner``)
INVITER_NAME = "Bigtech invitations"


def strongest_role(roles: list[Any]) -> str | None:
    """A membership may carry several roles; the strongest known one counts (unknown ones are ignored)."""
    for role in TENANT_ROLES:
        if role in roles:
            return role
    return None


def is_service_membership(membership: Any) -> bool:
    return INVITER_ROLE in list(membership.roles or [])


@dataclass(frozen=True)
class Member:
    user_id: str
    membership_id: str
    role: str | None
    name: str
    email: str
    joined: str | None
    confirmed: bool = True
    invited: str | None = None

    def to_public(self) -> dict[str, Any]:
        return {"id": self.user_id, "name": self.name, "email": self.email, "role": self.role,
                "joined_at": self.joined}

    def to_invitation(self) -> dict[str, Any]:
        """A pending invitation as the inviting tenant sees it: no user id and no account name, which would
        tell whether the address already had an account (ids are time-ordered, names are the user's)."""
        return {"id": self.membership_id, "email": self.email, "role": self.role, "status": "pending",
                "invited_at": self.invited}


def member_from(membership: Any) -> Member:
    return Member(membership.userid, membership.id, strongest_role(list(membership.roles)), membership.username,
                  membership.useremail, membership.joined or None, bool(membership.confirm),
                  membership.invited or None)


def ensure_team(teams: Teams, tenant_id: str, name: str) -> bool:
    """Create the tenant's team; ``False`` if it already exists (an earlier attempt created it)."""
    try:
        teams.create(tenant_id, name)
    except AppwriteException as error:
        if error.code == 409:
            return False
        raise
    return True


def find_user_by_email(users: Users, email: str) -> Any | None:
    found = users.list([Query.equal("email", [email]), Query.limit(1)], total=False).users
    return found[0] if found else None


def find_or_create_user(users: Users, email: str, name: str | None) -> tuple[str, bool]:
    """The id of the user with ``email`` and whether it was created now."""
    found = find_user_by_email(users, email)
    if found is not None:
        return found.id, False
    try:
        return users.create(ID.unique(), email=email, name=name or None).id, True
    except AppwriteException as error:
        if error.code != 409:
            raise
    again = find_user_by_email(users, email)  # created concurrently between our look-up and our create
    if again is None:
        raise RuntimeError(f"user {email} exists but cannot be found")
    return again.id, False


def add_membership(teams: Teams, tenant_id: str, user_id: str, role: str) -> Member | None:
    """Add the user to the tenant's team; ``None`` if already a member."""
    try:
        return member_from(teams.create_membership(tenant_id, [role], user_id=user_id))
    except AppwriteException as error:
        if error.code == 409:
            return None
        raise


def find_member(teams: Teams, tenant_id: str, user_id: str) -> Member | None:
    """The user's *confirmed* membership of the tenant (a pending invitation is not a member)."""
    listed = teams.list_memberships(tenant_id, [Query.equal("userId", [user_id]), Query.limit(1)], total=False)
    found = [m for m in listed.memberships if m.confirm and not is_service_membership(m)]
    return member_from(found[0]) if found else None


def find_membership(teams: Teams, tenant_id: str, membership_id: str) -> Member | None:
    """Any membership of the tenant by id (pending or not), or ``None``; never the inviter's."""
    try:
        membership = teams.get_membership(tenant_id, membership_id)
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise
    return None if is_service_membership(membership) else member_from(membership)


def memberships(teams: Teams, tenant_id: str, confirmed: bool) -> Iterator[Member]:
    """Every confirmed member, or every pending invitation, of the tenant (the inviter left out)."""
    cursor: str | None = None
    while True:
        queries = [Query.equal("confirm", [confirmed]), Query.limit(100)]
        queries += [Query.cursor_after(cursor)] if cursor else []
        listed = teams.list_memberships(tenant_id, queries, total=False).memberships
        yield from (member_from(m) for m in listed if not is_service_membership(m))
        if len(listed) < 100:
            return
        cursor = listed[-1].id


def all_members(teams: Teams, tenant_id: str) -> Iterator[Member]:
    return memberships(teams, tenant_id, confirmed=True)


def owner_count(teams: Teams, tenant_id: str) -> int:
    return sum(1 for member in all_members(teams, tenant_id) if member.role == OWNER)


# -- the inviter -------------------------------------------------------------------------------------

def ensure_inviter(users: Users) -> str:
    """The inviter's user id, created on first use. Found by its label (never by a fixed id, which anyone
    could claim first by signing up with it); concurrent first uses may create two, the oldest wins."""
    queries = [Query.contains("labels", [INVITER_LABEL]), Query.order_asc("$createdAt"), Query.limit(1)]
    found = users.list(queries, total=False).users
    if found:
        return found[0].id
    created = users.create(ID.unique(), name=INVITER_NAME)
    users.update_labels(created.id, [INVITER_LABEL])
    again = users.list(queries, total=False).users
    return again[0].id if again else created.id


def ensure_inviter_membership(teams: Teams, tenant_id: str, inviter_id: str) -> None:
    """Make the inviter an Appwrite owner of the tenant's team (API key: confirmed at once)."""
    try:
        teams.create_membership(tenant_id, [OWNER, INVITER_ROLE], user_id=inviter_id)
    except AppwriteException as error:
        if error.code != 409:  # already there (confirmed)
            raise
