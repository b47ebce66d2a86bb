"""Tenants as the rest of the code sees them: id rules, the core ``tenants`` row, database ids.

A tenant's id is also its Appwrite team id and its core ``tenants`` row id; its data lives in the
database ``tenant_<id>``. Appwrite ids are at most 36 characters, so with the ``tenant_`` prefix a
tenant id is at most 29.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .errors import NotFound
from .schema_constants import CORE_DATABASE_ID, tenant_database_id

TENANTS_TABLE = "tenants"
ACTIVE, SUSPENDED = "active", "suspended"
# Provisioning (the ``provisioning`` column; a tenant row without one predates it and is provisioned):
# ``provisioning`` until the asynchronous run finishes, then ``active``, or ``failed`` (retryable).
PROVISIONING, PROVISION_ACTIVE, PROVISION_FAILED = "provisioning", "active", "failed"
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,27}[a-z0-9]$")
TENANT_ID_RULE = "3 to 29 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit"


def valid_tenant_id(value: str) -> bool:
    return bool(TENANT_ID_PATTERN.match(value or ""))


def database_id(tenant_id: str) -> str:
    return tenant_database_id(tenant_id)


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    status: str
    database_id: str
    owner_user_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    created_at: str | None = None
    updated_at: str | None = None
    provisioning: str = PROVISION_ACTIVE
    provisioning_error: str | None = None
    created_by: str | None = None

    @property
    def suspended(self) -> bool:
        return self.status == SUSPENDED

    @property
    def public_status(self) -> str:
        """``provisioning`` / ``failed`` until the tenant is provisioned, then ``active`` / ``suspended``."""
        return self.status if self.provisioning == PROVISION_ACTIVE else self.provisioning

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "status": self.public_status, "database_id": self.database_id,
            "owner_user_id": self.owner_user_id, "settings": self.settings, "created_at": self.created_at,
            "updated_at": self.updated_at,
            "provisioning": {"status": self.provisioning, "error": self.provisioning_error},
        }


def tenant_from_row(row: Any) -> Tenant:
    data = row.data
    try:
        settings = json.loads(data.get("settings") or "{}")
    except ValueError:
        settings = {}
    return Tenant(
        id=row.id,
        name=str(data.get("name") or ""),
        status=str(data.get("status") or ACTIVE),
        database_id=str(data.get("database_id") or database_id(row.id)),
        owner_user_id=data.get("owner_user_id"),
        settings=settings if isinstance(settings, dict) else {},
        created_at=row.createdat or None,
        updated_at=row.updatedat or None,
        provisioning=str(data.get("provisioning") or PROVISION_ACTIVE),
        provisioning_error=data.get("provisioning_error") or None,
        created_by=data.get("created_by") or None,
    )


def find_tenant(tables: TablesDB, tenant_id: str) -> Tenant | None:
    """The tenant, or ``None`` if there is no such tenant (ids that cannot exist are not looked up)."""
    if not valid_tenant_id(tenant_id):
        return None
    try:
        return tenant_from_row(tables.get_row(CORE_DATABASE_ID, TENANTS_TABLE, tenant_id))
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise


def get_tenant(tables: TablesDB, tenant_id: str) -> Tenant:
    tenant = find_tenant(tables, tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.", code="tenant_not_found")
    return tenant


