"""Who may execute a function: Appwrite's ``execute`` roles, checked in the handler.

The create-execution route is reachable by guests (a function whose ``execute`` holds ``any`` or
``guests`` may be called without credentials), so the route is registered public and this module
does the checks Appwrite does in ``Executions/Create.php``:

* API keys (the dev key or an execution's ephemeral key) need the ``executions.write`` scope and
  may then execute any function, disabled ones included;
* a user (JWT) needs one of the function's ``execute`` roles;
* a guest needs ``any`` or ``guests``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..auth import Caller, authorize
from ..errors import AppwriteError
from ..runner.project import FunctionSpec

if TYPE_CHECKING:
    from ..app import LocalAppwrite

GUEST_ROLES = frozenset({"any", "guests"})


def user_roles(stack: LocalAppwrite, user_id: str) -> set[str]:
    """The user's roles from the users service (teams and labels included), or the basic three."""
    try:
        from ..users import roles_of  # the users service may not provide it yet
    except ImportError:
        return {"any", "users", f"user:{user_id}"}
    return set(roles_of(stack, user_id))


def caller_roles(stack: LocalAppwrite, caller: Caller) -> set[str]:
    if caller.kind == "user" and caller.user_id:
        return user_roles(stack, caller.user_id)
    return set(GUEST_ROLES)


def check_execute(stack: LocalAppwrite, caller: Caller, fn: FunctionSpec) -> None:
    if caller.kind != "guest":
        authorize(caller, "executions.write", users_allowed=True)
    if caller.is_key:
        return
    if not fn.enabled:
        raise function_not_found()
    if not caller_roles(stack, caller) & set(fn.execute):
        raise AppwriteError(
            401, "user_unauthorized", "The current user is not authorized to perform the requested action."
        )


def function_not_found() -> AppwriteError:
    return AppwriteError(404, "function_not_found", "Function with the requested ID could not be found.")
