"""Appwrite's permission model for Storage (``Authorization::isValid`` over permission strings).

A permission is ``<action>("<role>")``; ``write`` stands for create + update + delete (files take
read, update, delete and write). A caller holds roles (``users.roles_of``: ``any``, ``users``,
``user:<id>``, ``team:<id>``, ``team:<id>/<role>``, ``member:<id>``, ``label:<x>``); a guest holds
``any`` and ``guests``. An API key skips every check (its scopes were checked before).

Bucket-level vs file-level, as ``Files/Get.php`` decides: a caller allowed by the bucket's own
permission for the action sees every file; otherwise, only when the bucket has ``fileSecurity``, the
file's permissions decide, and a file the caller may not read is *not found* (404), while a bucket
without ``fileSecurity`` refuses outright (401 ``user_unauthorized``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..auth import Caller, authorize
from ..errors import AppwriteError

if TYPE_CHECKING:
    from ..app import LocalAppwrite

_PERMISSION = re.compile(r'^(read|create|update|delete|write)\("([^"]+)"\)$')
_ROLE = re.compile(r"^(any|guests|users(/(verified|unverified))?|user:[A-Za-z0-9._-]{1,36}(/(verified|unverified))?|"
                   r"team:[A-Za-z0-9._-]{1,36}(/[A-Za-z0-9._-]{1,32})?|member:[A-Za-z0-9._-]{1,36}|"
                   r"label:[A-Za-z0-9]{1,36})$")
BUCKET_ACTIONS = ("read", "create", "update", "delete", "write")
FILE_ACTIONS = ("read", "update", "delete", "write")
GUEST_ROLES = frozenset({"any", "guests"})
MAX_PERMISSIONS = 100


def unauthorized() -> AppwriteError:
    return AppwriteError(401, "user_unauthorized",
                         "The current user is not authorized to perform the requested action.")


def parse_permissions(value: object, allowed: tuple[str, ...]) -> list[str] | None:
    """Validate and aggregate (``write`` → create/update/delete as allowed); None stays None (default)."""
    if value is None:
        return None
    if not isinstance(value, list) or len(value) > MAX_PERMISSIONS:
        raise AppwriteError(400, "general_argument_invalid",
                            f"Invalid `permissions` param: Value must be an array of at most {MAX_PERMISSIONS}.")
    out: list[str] = []
    for item in value:
        found = _PERMISSION.match(item) if isinstance(item, str) else None
        if not found or found.group(1) not in allowed or not _ROLE.match(found.group(2)):
            raise AppwriteError(400, "general_argument_invalid",
                                f"Invalid `permissions` param: Permission \"{item}\" is not valid.")
        action, role = found.groups()
        actions = [a for a in ("create", "update", "delete") if a in allowed] if action == "write" else [action]
        for one in actions:
            text = f'{one}("{role}")'
            if text not in out:
                out.append(text)
    return out


def roles_for(permissions: list[str], action: str) -> set[str]:
    wanted = set()
    for item in permissions:
        found = _PERMISSION.match(item)
        if found and (found.group(1) == action or (found.group(1) == "write" and action != "read")):
            wanted.add(found.group(2))
    return wanted


class Access:
    """One request's caller, resolved to the roles Appwrite would check."""

    def __init__(self, stack: LocalAppwrite, caller: Caller | None) -> None:
        self.caller = caller or Caller("guest")
        self.is_key = self.caller.is_key
        if self.caller.kind == "user" and self.caller.user_id:
            from ..users import roles_of

            self.roles = frozenset(roles_of(stack, self.caller.user_id))
        else:
            self.roles = GUEST_ROLES
        self.user_id = self.caller.user_id if self.caller.kind == "user" else None

    def need_scope(self, scope: str) -> None:
        """Keys need the route's scope; users and guests reach the route and meet the permissions."""
        if self.is_key:
            authorize(self.caller, scope, users_allowed=False)

    def allowed(self, permissions: list[str], action: str) -> bool:
        return self.is_key or bool(self.roles & roles_for(permissions, action))

    def check_own_roles(self, permissions: list[str]) -> None:
        """A user may only grant roles they hold (``Files/Create.php``); keys grant anything."""
        if self.is_key:
            return
        for item in permissions:
            found = _PERMISSION.match(item)
            if found and found.group(2) not in self.roles:
                raise AppwriteError(401, "user_unauthorized",
                                    "Permissions must be one of: (" + ", ".join(sorted(self.roles)) + ")")
