"""Tenant provisioning, off the request path: ``POST /{tenant_id}/provision``.

``POST /`` records the tenant (``provisioning``) and answers 202 at once; the heavy part runs in an
**asynchronous** execution of this function (never a synchronous self-call, which would wait for
its own instance on Appwrite): the tenant database (one ``create_table`` per table), the team and
the owner's membership, the default plugins and credit packages, then the tenant turns ``active``
together with its ``tenant.created`` event. Every step is idempotent, so a run that fails (the
tenant turns ``failed`` with the reason) or dies is simply run again: a platform admin sends
``POST /{tenant_id}/provision``, which schedules a new run and answers 202.

The run itself is key-only: Appwrite executes it with the function's key and no user, and a call
carrying a user is the admin's retry, never the run (as billing's ``POST /events``).
"""

from __future__ import annotations

import os
from typing import Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams

from bigtech import accounts, appwrite_access, uow
from bigtech.audited import Actor
from bigtech.errors import Conflict
from bigtech.http import Request, Response
from bigtech.identity import authenticate
from bigtech.outbox import stage_event
from bigtech.payments.packages import ensure_default_packages
from bigtech.permissions import OWNER
from bigtech.plugin_loader import enable_default_plugins
from bigtech.schema import provision_tenant
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.tenancy import PROVISION_ACTIVE, PROVISION_FAILED, PROVISIONING, TENANTS_TABLE, Tenant, get_tenant
from bigtech.uow import UnitOfWork

PROVISION_ACTION = "tenants.provision"
MAX_ERROR_CHARS = 1000


def authenticate_callers(request: Request, route: Any) -> None:
    """``serve`` hook: every route resolves the signed-in admin, except the key-only provisioning run."""
    if route.action == PROVISION_ACTION and not request.user_id:
        return
    authenticate(request, route)


def schedule(client: Client, tenant_id: str) -> str:
    """Start an asynchronous execution of this function that provisions ``tenant_id``; its id."""
    execution = Functions(client).create_execution(
        os.environ["APPWRITE_FUNCTION_ID"], body="", xasync=True, path=f"/{tenant_id}/provision",
        method=ExecutionMethod.POST,
    )
    return execution.id


def provision(request: Request, tenant_id: str) -> Any:
    """The admin's retry (a user): schedule a run, 202. The run (no user): do the work."""
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    tenant = get_tenant(tables, tenant_id)
    if request.user_id:
        return retry(client, tables, tenant)
    return run(request, client, tables, tenant)


def retry(client: Client, tables: TablesDB, tenant: Tenant) -> Response:
    if tenant.provisioning == PROVISION_ACTIVE:
        raise Conflict("This tenant is already provisioned.", code="tenant_provisioned")
    tables.update_row(CORE_DATABASE_ID, TENANTS_TABLE, tenant.id,
                      {"provisioning": PROVISIONING, "provisioning_error": None})
    execution_id = schedule(client, tenant.id)
    return Response(202, {"tenant": {**tenant.to_public(), "status": PROVISIONING},
                          "provisioning": {"status": PROVISIONING, "execution_id": execution_id}})


def run(request: Request, client: Client, tables: TablesDB, tenant: Tenant) -> Any:
    if tenant.provisioning == PROVISION_ACTIVE:
        return {"tenant_id": tenant.id, "status": PROVISION_ACTIVE, "changed": False}
    try:
        report = _provision(request, client, tables, tenant)
    except Exception as error:  # recorded on the tenant for the admin to see, then retried by them
        request.log.exception(f"tenant {tenant.id}: provisioning failed", error)
        reason = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
        tables.update_row(CORE_DATABASE_ID, TENANTS_TABLE, tenant.id,
                          {"provisioning": PROVISION_FAILED, "provisioning_error": reason})
        return Response(500, {"tenant_id": tenant.id, "status": PROVISION_FAILED, "error": reason})
    request.log.log(f"tenant {tenant.id}: provisioned ({report})")
    return {"tenant_id": tenant.id, "status": PROVISION_ACTIVE, **report}


def _provision(request: Request, client: Client, tables: TablesDB, tenant: Tenant) -> dict[str, Any]:
    report = provision_tenant(tables, tenant.id)
    accounts.ensure_team(Teams(client), tenant.id, tenant.name)
    if tenant.owner_user_id:
        accounts.add_membership(Teams(client), tenant.id, tenant.owner_user_id, OWNER)
    actor = Actor(tenant.created_by or "system", None)
    try:  # the platform's default plugins (a consulta works out of the box); never fatal for the tenant
        plugins = enable_default_plugins(client, tenant.id, actor)
    except Exception as error:
        request.log.exception(f"tenant {tenant.id}: default plugins not enabled", error)
        plugins = {"enabled": [], "skipped": [], "audit_id": None, "error": "default_plugins_failed"}
    try:  # the default credit packages (billing also creates them lazily); never fatal either
        ensure_default_packages(tables, tenant.database_id)
    except Exception as error:
        request.log.exception(f"tenant {tenant.id}: default packages not created", error)

    def activate(unit: UnitOfWork) -> None:
        if get_tenant(tables, tenant.id).provisioning == PROVISION_ACTIVE:
            return  # a concurrent run got there first: its event is the one
        unit.update(CORE_DATABASE_ID, TENANTS_TABLE, tenant.id,
                    {"provisioning": PROVISION_ACTIVE, "provisioning_error": None})
        data = {"tenant_id": tenant.id, "name": tenant.name, "owner_user_id": tenant.owner_user_id}
        stage_event(unit, "tenant.created", tenant.id, data, actor=actor.user_id)

    uow.run(tables, activate)
    return {"tables": len(report.tables_created), "changed": report.changed, "plugins": plugins}


__all__ = ["PROVISION_ACTION", "authenticate_callers", "provision", "schedule"]
