"""Who may call what: the ``serve`` hook (a member signed in, except on the key-only routes) and whose
wallet a caller may look at (their own; owners, admins and platform admins any member's).

The hook runs on every route, so this module stays small: a cold worker loads it with ``main``, and a
route's own module only when that route is served.
"""

from __future__ import annotations

from typing import Any

from bigtech.errors import Forbidden
from bigtech.http import Request
from bigtech.identity import Identity, authenticate
from bigtech.permissions import ADMIN, OWNER, PLATFORM_ADMIN

MANAGERS = (OWNER, ADMIN, PLATFORM_ADMIN)
EVENTS_ACTION = "billing.events"  # the relay: payment.*
REAP_ACTION = "billing.reap"  # the schedule: stale holds and keys
# Routes called with a key and no user (the relay, the schedule); each refuses any user itself.
KEY_ONLY_ACTIONS = frozenset({EVENTS_ACTION, REAP_ACTION})


def authenticate_members(request: Request, route: Any) -> None:
    """``serve`` hook: every route resolves the signed-in member, except the key-only ones (no user)."""
    if route.action not in KEY_ONLY_ACTIONS:
        authenticate(request, route)


def is_manager(identity: Identity) -> bool:
    return identity.role in MANAGERS


def wallet_owner(identity: Identity, requested: str | None) -> str:
    """The user whose wallet is read: ``requested`` if the caller may see it, else 403."""
    if not requested or requested == identity.user_id:
        return identity.user_id
    if not is_manager(identity):
        raise Forbidden("Only owners and admins may see other members' credits.", code="forbidden")
    return requested
