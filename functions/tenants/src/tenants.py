"""Tenant handlers (platform admins only): create, list, read, update, suspend, reactivate."""

from __future__ import annotations

import json
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

from bigtech import accounts, appwrite_access
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, Event, commit_change
from bigtech.errors import Conflict, Unprocessable
from bigtech.http import Request, Response
from bigtech.identity import current
from bigtech.pagination import listing, page_queries, paginate
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.tenancy import (
    ACTIVE,
    PROVISION_FAILED,
    PROVISIONING,
    SUSPENDED,
    TENANTS_TABLE,
    Tenant,
    database_id,
    find_tenant,
    get_tenant,
    tenant_from_row,
)
from bigtech.uow import UnitOfWork

from . import provisioning
from .models import CreateTenant, ListTenants, TenantSettings, UpdateTenant


def create(request: Request) -> Any:
    """Record the tenant (``provisioning``) and its owner, answer 202; provisioning runs asynchronously.

    A handful of API calls, whatever the schema's size: the database, team, membership, default
    plugins and packages are made by an asynchronous execution (``provisioning.py``) that turns the
    tenant ``active`` (or ``failed``, retryable). ``GET /{id}`` shows the progress.
    """
    body = request.model(CreateTenant)
    identity = current(request)
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    if find_tenant(tables, body.id) is not None:
        raise Conflict(f"Tenant {body.id} already exists.", code="tenant_exists")
    owner_id, owner_created = accounts.find_or_create_user(Users(client), body.owner_email, body.owner_name)
    row = {
        "name": body.name, "status": ACTIVE, "owner_user_id": owner_id, "team_id": body.id,
        "database_id": database_id(body.id), "settings": _settings_json(body.settings), "created_by": identity.user_id,
        "provisioning": PROVISIONING, "provisioning_error": None,
    }

    def stage(unit: UnitOfWork) -> None:
        if find_tenant(tables, body.id) is not None:  # created concurrently since our first look
            raise Conflict(f"Tenant {body.id} already exists.", code="tenant_exists")
        unit.create(CORE_DATABASE_ID, TENANTS_TABLE, body.id, row)

    details = {"name": body.name, "owner_user_id": owner_id, "owner_email": body.owner_email,
               "owner_created": owner_created}
    # The tenant.created event is staged when provisioning completes: its outbox is in the tenant's database.
    entry, _ = commit_change(tables, AuditTrail.platform(), Actor.of(identity), action="tenants.create",
                             resource=("tenant", body.id), details=details, stage=stage)
    tenant = get_tenant(tables, body.id)
    try:
        execution_id: str | None = provisioning.schedule(client, body.id)
    except Exception as error:  # the tenant exists: an admin retries with POST /{id}/provision
        request.log.exception(f"tenant {body.id}: provisioning not scheduled", error)
        tables.update_row(CORE_DATABASE_ID, TENANTS_TABLE, body.id,
                          {"provisioning": PROVISION_FAILED, "provisioning_error": f"not scheduled: {error}"[:1000]})
        tenant, execution_id = get_tenant(tables, body.id), None
    return Response(202, {
        "tenant": tenant.to_public(),
        "owner": {"id": owner_id, "email": body.owner_email, "created": owner_created},
        "provisioning": {"status": tenant.provisioning, "execution_id": execution_id},
        "audit_id": audit_id(entry),
    })


def list_tenants(request: Request) -> Any:
    query = request.query_model(ListTenants)
    tables = appwrite_access.tables(request)
    queries = [Query.order_asc("$createdAt"), *page_queries(query)]
    if query.status:
        queries.insert(0, Query.equal("status", [query.status]))
    listed = listing(lambda: tables.list_rows(CORE_DATABASE_ID, TENANTS_TABLE, queries, total=query.total))
    return paginate([tenant_from_row(row) for row in listed.rows], query, Tenant.to_public, lambda tenant: tenant.id,
                    total=listed.total if query.total else None)


def read(request: Request, tenant_id: str) -> Any:
    return {"tenant": get_tenant(appwrite_access.tables(request), tenant_id).to_public()}


def update(request: Request, tenant_id: str) -> Any:
    body = request.model(UpdateTenant)
    changes = body.model_dump(exclude_unset=True)
    if not changes:
        raise Unprocessable("Nothing to change.",
                            details=[{"field": "body", "message": "Send name, status or settings."}])
    if "status" in changes and changes["status"] is None:
        raise Unprocessable.field("status", "Must be active or suspended.")
    if "name" in changes and changes["name"] is None:
        raise Unprocessable.field("name", "Must not be empty.")
    return _change(request, tenant_id, name=body.name, status=body.status,
                   settings=body.settings if "settings" in changes else None)


def suspend(request: Request, tenant_id: str) -> Any:
    return _change(request, tenant_id, status=SUSPENDED)


def reactivate(request: Request, tenant_id: str) -> Any:
    return _change(request, tenant_id, status=ACTIVE)


def _change(request: Request, tenant_id: str, *, name: str | None = None, status: str | None = None,
            settings: TenantSettings | None = None) -> Any:
    identity = current(request)
    tables = appwrite_access.tables(request)
    get_tenant(tables, tenant_id)  # 404 before anything else

    def stage(unit: UnitOfWork) -> dict[str, Any]:
        tenant = get_tenant(tables, tenant_id)  # fresh on every attempt
        data: dict[str, Any] = {}
        if name is not None and name != tenant.name:
            data["name"] = name
        if status is not None and status != tenant.status:
            data["status"] = status
        if settings is not None:
            merged = {**tenant.settings, **settings.model_dump(exclude_unset=True)}
            merged = {k: v for k, v in merged.items() if v is not None}
            if merged != tenant.settings:
                data["settings"] = json.dumps(merged, sort_keys=True)
        if data:
            unit.update(CORE_DATABASE_ID, TENANTS_TABLE, tenant_id, data)
        return {"before": tenant, "data": data}

    # A dry run first, to skip the audit entry (and the transaction) when nothing would change.
    preview = stage(UnitOfWork())
    if not preview["data"]:
        return {"tenant": preview["before"].to_public(), "changed": False, "audit_id": None}

    action = _action_for(status, preview["before"])
    events = []
    if status is not None and status != preview["before"].status:
        events.append(Event("tenant.suspended" if status == SUSPENDED else "tenant.reactivated", tenant_id,
                            {"tenant_id": tenant_id}))
    changed_fields = sorted(preview["data"])
    entry, _ = commit_change(
        tables, AuditTrail.platform(), Actor.of(identity), action=action, resource=("tenant", tenant_id),
        details={"fields": changed_fields, "changes": {k: _readable(v) for k, v in preview["data"].items()}},
        stage=stage, events=events,
    )
    return {"tenant": get_tenant(tables, tenant_id).to_public(), "changed": True, "audit_id": audit_id(entry)}


def _action_for(status: str | None, before: Tenant) -> str:
    if status is not None and status != before.status:
        return "tenants.suspend" if status == SUSPENDED else "tenants.reactivate"
    return "tenants.update"


def _readable(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _settings_json(settings: TenantSettings) -> str:
    return json.dumps(settings.model_dump(exclude_none=True), sort_keys=True)

