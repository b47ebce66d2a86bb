"""members: a tenant's owners and admins manage who belongs to it (docs/security.md#members-and-identity).

Table of contents; handlers live in ``invitations.py`` (adding someone is inviting them: they must
accept) and ``members.py`` (accepted members). The tenant is the caller's (or the one named by
``x-tenant-id``): ``bigtech.identity.authenticate`` resolves it and checks the permission matrix first.
"""

from typing import Any

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import invitations, joined, members

router = Router()
router.add("POST", "/", invitations.invite, action="members.add")
router.add("GET", "/invitations", invitations.list_invitations, action="members.list")
router.add("DELETE", "/invitations/{invitation_id}", invitations.revoke, action="members.remove")
router.add("GET", "/", members.list_members, action="members.list")
router.add("PATCH", "/{user_id}", members.change_role, action="members.update")
router.add("DELETE", "/{user_id}", members.remove, action="members.remove")

_http = serve(router, before=[authenticate])


def main(context: Any) -> Any:
    """HTTP routes above; Appwrite's ``teams.*.memberships.*.update.status`` event: an invitee accepted."""
    if (context.req.headers or {}).get("x-appwrite-trigger") == "event":
        return joined.on_accepted(context)
    return _http(context)


main.router = router  # type: ignore[attr-defined]
