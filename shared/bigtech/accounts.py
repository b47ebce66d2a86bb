"""Appwrite users and teams as tenants and members: one team per tenant, membership roles as tenant roles.

Used by ``tenants`` (the owner of a new tenant) and ``members``. Every helper is idempotent where it
can be (a request sent again after a failure finds what the first attempt created).
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

from .identity import strongest_role
from .permissions import OWNER


@dataclass(frozen=True)
class Member:
    user_id: str
    membership_id: str
    role: str | None
    name: str
    email: str
    joined: str | None

    def to_public(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "name": self.name, "email": self.email, "role": self.role,
                "joined_at": self.joined}


def member_from(membership: Any) -> Member:
    return Member(membership.userid, membership.id, strongest_role(list(membership.roles)), membership.username,
                  membership.useremail, membership.joined or None)


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
    listed = teams.list_memberships(tenant_id, [Query.equal("userId", [user_id]), Query.limit(1)], total=False)
    return member_from(listed.memberships[0]) if listed.memberships else None


def all_members(teams: Teams, tenant_id: str) -> Iterator[Member]:
    cursor: str | None = None
    while True:
        queries = [Query.limit(100)] + ([Query.cursor_after(cursor)] if cursor else [])
        memberships = teams.list_memberships(tenant_id, queries, total=False).memberships
        yield from (member_from(m) for m in memberships)
        if len(memberships) < 100:
            return
        cursor = memberships[-1].id


def owner_count(teams: Teams, tenant_id: str) -> int:
    return sum(1 for member in all_members(teams, tenant_id) if member.role == OWNER)
