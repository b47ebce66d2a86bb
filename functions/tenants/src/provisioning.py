"""Starting a tenant's provisioning, and the platform admin's retry: ``POST /{tenant_id}/provision``.

``POST /`` records the tenant (``provisioning``) and answers 202 at once; the heavy part runs in an
**asynchronous** execution of the ``provisioning`` function (``bigtech.tenant_provisioning``): never a
synchronous self-call, which would wait for its own instance on Appwrite, and not this function's own
instance either, which must stay free for the admin's requests. A run that failed (the tenant turns
``failed`` with the reason) or died is started again by ``POST /{tenant_id}/provision`` (202).
"""

from __future__ import annotations

from typing import Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access
from bigtech.errors import Conflict
from bigtech.http import Request, Response
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.tenancy import PROVISION_ACTIVE, PROVISIONING, TENANTS_TABLE, get_tenant
from bigtech.tenant_provisioning import PROVISIONING_FUNCTION


def schedule(client: Client, tenant_id: str) -> str:
    """Start an asynchronous provisioning run for ``tenant_id``; the execution id."""
    execution = Functions(client).create_execution(
        PROVISIONING_FUNCTION, body="", xasync=True, path=f"/{tenant_id}", method=ExecutionMethod.POST,
    )
    return execution.id


def retry(request: Request, tenant_id: str) -> Any:
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    tenant = get_tenant(tables, tenant_id)
    if tenant.provisioning == PROVISION_ACTIVE:
        raise Conflict("This tenant is already provisioned.", code="tenant_provisioned")
    tables.update_row(CORE_DATABASE_ID, TENANTS_TABLE, tenant.id,
                      {"provisioning": PROVISIONING, "provisioning_error": None})
    execution_id = schedule(client, tenant.id)
    return Response(202, {"tenant": {**tenant.to_public(), "status": PROVISIONING},
                          "provisioning": {"status": PROVISIONING, "execution_id": execution_id}})


__all__ = ["retry", "schedule"]
