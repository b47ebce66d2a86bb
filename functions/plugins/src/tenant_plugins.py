"""A tenant's plugins: ``GET /`` (state), ``PUT /{plugin_id}`` (enable/disable/configure), ``DELETE
/{plugin_id}`` (disable and forget the config). Secrets are never returned: only their field names."""

from __future__ import annotations

from typing import Any

from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access
from bigtech.audited import Actor
from bigtech.http import Request
from bigtech.identity import current
from bigtech.pagination import PageQuery, unpaged
from bigtech.plugin_loader import PluginChange, apply, catalog, state

PLUGIN_ID = r"^(fonte|consulta|pagamento|mercado|funcional)-[a-z0-9][a-z0-9-]{0,40}$"


class PluginPut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    config: dict[str, Any] | None = None
    priority: int | None = Field(None, ge=0, le=10_000)


class PluginPath(BaseModel):
    plugin_id: str = Field(pattern=PLUGIN_ID)


def _plugin_id(value: str) -> str:
    return PluginPath.model_validate({"plugin_id": value}).plugin_id


def list_plugins(request: Request) -> Any:
    """Every catalogued plugin with this tenant's state (disabled unless the tenant enabled it)."""
    identity = current(request)
    tables = appwrite_access.tables(request)
    manifests = catalog.load_catalog(tables)
    rows = state.load(tables, identity.database_id)
    items = []
    for plugin_id in sorted(set(manifests) | set(rows)):
        plugin = rows.get(plugin_id) or state.TenantPlugin(plugin_id)
        public = plugin.to_public(manifests.get(plugin_id))
        public["dependencies"] = manifests[plugin_id].dependencies.model_dump() if plugin_id in manifests else None
        items.append(public)
    return unpaged(items, request.query_model(PageQuery))


def _change(request: Request, change: PluginChange) -> Any:
    identity = current(request)
    client = appwrite_access.key_client(request)
    return apply(TablesDB(client), Functions(client), identity.tenant_id or "", identity.database_id,
                 Actor.of(identity), change)


def configure(request: Request, plugin_id: str) -> Any:
    plugin_id = _plugin_id(plugin_id)
    body = request.model(PluginPut)
    return _change(request, PluginChange(plugin_id, enabled=body.enabled, config=body.config, priority=body.priority))


def remove(request: Request, plugin_id: str) -> Any:
    return _change(request, PluginChange(_plugin_id(plugin_id), forget=True))
