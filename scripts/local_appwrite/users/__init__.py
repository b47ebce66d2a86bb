"""Users: the Users service routes, plus what other services ask about a user.

Other modules import :func:`roles_of` (the Appwrite roles a user holds, for ``execute`` and row
permissions) and :func:`get_user_json` (the User model, e.g. for an execution's caller).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common import loads
from ..http import Router
from . import routes, store

if TYPE_CHECKING:
    from ..app import LocalAppwrite

__all__ = ["get_user_json", "register", "roles_of"]


def register(stack: LocalAppwrite, router: Router) -> None:
    store.migrate(stack.storage)
    routes.register(stack, router)


def get_user_json(stack: LocalAppwrite, user_id: str) -> dict | None:
    """The user as ``Users.get`` returns it, or None when there is no such user."""
    with stack.storage.read() as conn:
        doc = store.load_user(conn, user_id)
    return store.user_public(doc) if doc else None


def roles_of(stack: LocalAppwrite, user_id: str) -> set[str]:
    """Appwrite's roles for ``user_id`` (``Auth::getRoles``): an unknown user is a guest.

    ``any``, ``users``, ``users/<verified|unverified>``, ``user:<id>``, ``user:<id>/<verified|unverified>``,
    ``label:<label>`` per label and, for each *confirmed* membership, ``team:<teamId>``,
    ``team:<teamId>/<role>`` per role and ``member:<membershipId>``.
    """
    with stack.storage.read() as conn:
        doc = store.load_user(conn, user_id)
        rows = conn.execute("SELECT doc FROM aw_memberships WHERE user_id = ?", (user_id,)).fetchall()
    if doc is None:
        return {"any", "guests"}
    verified = "verified" if doc.get("emailVerification") or doc.get("phoneVerification") else "unverified"
    roles = {"any", "users", f"users/{verified}", f"user:{user_id}", f"user:{user_id}/{verified}"}
    roles.update(f"label:{label}" for label in doc.get("labels", []))
    for row in rows:
        membership = loads(row["doc"])
        if not membership.get("confirm"):
            continue
        team_id = membership["teamId"]
        roles.add(f"team:{team_id}")
        roles.add(f"member:{membership['$id']}")
        roles.update(f"team:{team_id}/{role}" for role in membership.get("roles", []))
    return roles
