"""``GET /me``: who am I, in which tenant, with which role and permissions."""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access, market
from bigtech.credits import read_wallet
from bigtech.http import Request
from bigtech.identity import Identity, current, default_membership


def me(request: Request) -> Any:
    identity = current(request)
    user = identity.user()
    tenant = identity.tenant()
    wallet = None  # the caller's credits in the current tenant (one row read)
    limit = None  # their monthly spending limit, when the tenant's market plugin sets one (mercado-varejo)
    if tenant is not None:
        wallet = read_wallet(appwrite_access.tables(request), tenant.database_id, identity.user_id).to_public()
        limit = market.spending(appwrite_access.tables(request), tenant.database_id, identity.user_id)
    return {
        "user": user.to_public(),
        "platform_admin": user.platform_admin,
        "tenant": None if tenant is None else {"id": tenant.id, "name": tenant.name, "status": tenant.status},
        "role": identity.role,
        "permissions": identity.permissions(),
        "tenants": [{"id": m.tenant_id, "name": m.tenant_name, "role": m.role} for m in identity.memberships],
        "default_tenant": _default_tenant(identity),
        # Pending invitations: accepted with the e-mail's link (teams.updateMembershipStatus), not here.
        "invitations": [{"tenant_id": m.tenant_id, "tenant_name": m.tenant_name, "role": m.role,
                         "invited_at": m.invited or None} for m in identity.pending_invitations()],
        "wallet": None if wallet is None else {"balance": wallet["balance"], "held": wallet["held"]},
        "spending_limit": limit,
    }


def _default_tenant(identity: Identity) -> str | None:
    """The tenant used when a call names none (the rule in ``bigtech.identity``)."""
    if not identity.memberships:
        return None
    return default_membership(identity).tenant_id
