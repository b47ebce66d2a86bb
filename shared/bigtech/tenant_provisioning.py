"""Provisioning one tenant, off the request path (docs/tenants.md).

Run by the ``provisioning`` function, which the ``tenants`` function executes **asynchronously** after
``POST /`` recorded the tenant (``provisioning``). A separate function on purpose: on Appwrite an
instance serves one execution at a time, so runs taking seconds each must not occupy the instance
that answers the platform admin's requests.

Every step is idempotent, so a failed run (the tenant turns ``failed`` with the reason) is simply
run again (``tenants POST /{id}/provision``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appwrite.client import Client
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams

from . import accounts, uow
from .audited import Actor
from .outbox_writer import stage_event
from .payments.packages import ensure_default_packages
from .permissions import OWNER
from .plugin_loader import enable_default_plugins
from .schema import provision_tenant
from .schema.core import CORE_DATABASE_ID
from .storage import ensure_bucket
from .tenancy import PROVISION_ACTIVE, PROVISION_FAILED, TENANTS_TABLE, Tenant, get_tenant
from .uow import UnitOfWork

PROVISIONING_FUNCTION = "provisioning"  # its function id (appwrite.json)
MAX_ERROR_CHARS = 1000

Log = Callable[[str], Any]


def run(client: Client, tenant_id: str, log: Log, error_log: Log) -> tuple[int, dict[str, Any]]:
    """Provision ``tenant_id``; (HTTP status, body). A failure is recorded on the tenant, never raised."""
    tables = TablesDB(client)
    tenant = get_tenant(tables, tenant_id)
    if tenant.provisioning == PROVISION_ACTIVE:
        return 200, {"tenant_id": tenant.id, "status": PROVISION_ACTIVE, "changed": False}
    try:
        report = _provision(client, tables, tenant, error_log)
    except Exception as error:  # recorded on the tenant for the admin to see; they retry
        reason = f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
        error_log(f"tenant {tenant.id}: provisioning failed: {reason}")
        tables.update_row(CORE_DATABASE_ID, TENANTS_TABLE, tenant.id,
                          {"provisioning": PROVISION_FAILED, "provisioning_error": reason})
        return 500, {"tenant_id": tenant.id, "status": PROVISION_FAILED, "error": reason}
    log(f"tenant {tenant.id}: provisioned ({report})")
    return 200, {"tenant_id": tenant.id, "status": PROVISION_ACTIVE, **report}


def _provision(client: Client, tables: TablesDB, tenant: Tenant, error_log: Log) -> dict[str, Any]:
    report = provision_tenant(tables, tenant.id)  # one create_table per table, columns and indexes inline
    ensure_bucket(Storage(client), tenant.id, tenant.name)  # the tenant's private files (docs/storage.md)
    accounts.ensure_team(Teams(client), tenant.id, tenant.name)
    if tenant.owner_user_id:
        accounts.add_membership(Teams(client), tenant.id, tenant.owner_user_id, OWNER)
    actor = Actor(tenant.created_by or "system", None)
    try:  # the platform's default plugins (a consulta works out of the box); never fatal for the tenant
        plugins = enable_default_plugins(client, tenant.id, actor)
    except Exception as error:
        error_log(f"tenant {tenant.id}: default plugins not enabled: {type(error).__name__}: {error}")
        plugins = {"enabled": [], "skipped": [], "audit_id": None, "error": "default_plugins_failed"}
    try:  # the default credit packages (billing also creates them lazily); never fatal either
        ensure_default_packages(tables, tenant.database_id)
    except Exception as error:
        error_log(f"tenant {tenant.id}: default packages not created: {type(error).__name__}: {error}")

    def activate(unit: UnitOfWork) -> None:
        if get_tenant(tables, tenant.id).provisioning == PROVISION_ACTIVE:
            return  # a concurrent run got there first: its event is the one
        unit.update(CORE_DATABASE_ID, TENANTS_TABLE, tenant.id,
                    {"provisioning": PROVISION_ACTIVE, "provisioning_error": None})
        data = {"tenant_id": tenant.id, "name": tenant.name, "owner_user_id": tenant.owner_user_id}
        stage_event(unit, "tenant.created", tenant.id, data, actor=actor.user_id)

    uow.run(tables, activate)
    return {"tables": len(report.tables_created), "changed": report.changed, "plugins": plugins}


__all__ = ["PROVISIONING_FUNCTION", "run"]
