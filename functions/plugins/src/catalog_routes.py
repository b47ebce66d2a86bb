"""``GET /catalog`` (any signed-in user) and ``POST /catalog/sync`` (platform admin, audited)."""

from __future__ import annotations

from typing import Any

from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, ConfigDict

from bigtech import appwrite_access
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, commit_change
from bigtech.http import Request
from bigtech.identity import current
from bigtech.pagination import unpaged
from bigtech.plugin_loader import catalog


class CatalogQuery(BaseModel):
    total: bool = False  # ?total=true (docs/api-style.md)
    model_config = ConfigDict(extra="ignore")

    type: str | None = None
    category: str | None = None


def list_catalog(request: Request) -> Any:
    query = request.query_model(CatalogQuery)
    manifests = catalog.load_catalog(appwrite_access.tables(request))
    items = [catalog.to_public(m) for _, m in sorted(manifests.items())
             if query.type in (None, m.type) and query.category in (None, m.category)]
    return unpaged(items, query)


def sync(request: Request) -> Any:
    """Fetch every plugin function's manifest and upsert the catalog (see ``bigtech.plugin_loader.catalog``)."""
    identity = current(request)
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    fetched = catalog.fetch_all(Functions(client))
    synced = [m.id for m in fetched.manifests]
    entry, _ = commit_change(
        tables, AuditTrail.platform(), Actor.of(identity), action="plugin_catalog.sync",
        resource=("plugin_catalog", "catalog"), details={"synced": synced, "errors": fetched.errors},
        stage=lambda unit: catalog.stage_rows(unit, fetched.manifests),
    )
    return {"synced": synced, "errors": fetched.errors, "audit_id": audit_id(entry)}
