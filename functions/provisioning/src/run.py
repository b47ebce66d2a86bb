"""The one route: provision the tenant named in the path; key-only."""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access, tenant_provisioning
from bigtech.errors import Forbidden
from bigtech.http import Request, Response

ACTION = "provisioning.run"


def provision(request: Request, tenant_id: str) -> Any:
    if request.user_id:  # Appwrite runs it with the tenants function's key and no user
        raise Forbidden("Provisioning runs on the tenants function's request only.", code="core_only")
    status, body = tenant_provisioning.run(appwrite_access.key_client(request), tenant_id,
                                           request.log.log, request.log.error)
    return Response(status, body)
