"""Whose wallet a caller may look at: their own; owners, admins and platform admins any member's."""

from __future__ import annotations

from bigtech.errors import Forbidden
from bigtech.identity import Identity
from bigtech.permissions import ADMIN, OWNER, PLATFORM_ADMIN

MANAGERS = (OWNER, ADMIN, PLATFORM_ADMIN)


def is_manager(identity: Identity) -> bool:
    return identity.role in MANAGERS


def wallet_owner(identity: Identity, requested: str | None) -> str:
    """The user whose wallet is read: ``requested`` if the caller may see it, else 403."""
    if not requested or requested == identity.user_id:
        return identity.user_id
    if not is_manager(identity):
        raise Forbidden("Only owners and admins may see other members' credits.", code="forbidden")
    return requested
