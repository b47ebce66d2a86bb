"""members: a tenant's owners and admins manage who belongs to it (DESIGN §7).

Table of contents; handlers live in ``invitations.py`` (adding someone is inviting them: they must
accept) and ``members.py`` (accepted members). The tenant is the caller's (or the one named by
``x-tenant-id``): ``bigtech.identity.authenticate`` resolves it and checks the permission matrix first.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import invitations, members

router = Router()
router.add("POST", "/", invitations.invite, action="members.add")
router.add("GET", "/invitations", invitations.list_invitations, action="members.list")
router.add("DELETE", "/invitations/{invitation_id}", invitations.revoke, action="members.remove")
router.add("GET", "/", members.list_members, action="members.list")
router.add("PATCH", "/{user_id}", members.change_role, action="members.update")
router.add("DELETE", "/{user_id}", members.remove, action="members.remove")

main = serve(router, before=[authenticate])
