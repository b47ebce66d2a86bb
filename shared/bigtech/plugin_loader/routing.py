"""Which consulta plugin runs a category for a tenant, with which config and which fontes, in which order.

The consultas function sends the consulta plugin its fontes explicitly (``ExecuteRequest.fontes``),
each with its own decrypted config, so a plugin never reads tenant state itself. The order is:

1. the consulta plugin's ``config.fontes`` when the tenant set it (enabled ones only);
2. otherwise the manifest's ``default_fontes`` that are enabled, then the other enabled fontes its
   dependencies name, by the tenant's ``priority`` then id.

On a new tenant (defaults) that is just ``fonte-sandbox``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appwrite.services.tables_db import TablesDB

from ..errors import Conflict
from ..plugins.contract import FonteRef
from ..plugins.manifest import Manifest
from . import catalog as catalog_module
from . import state


@dataclass(frozen=True)
class Route:
    plugin_id: str
    manifest: Manifest
    config: dict[str, Any]
    fontes: list[FonteRef] = field(default_factory=list)


def plugin_for(category: str) -> str:
    return f"consulta-{category}"


def fonte_order(manifest: Manifest, plugin: state.TenantPlugin, plugins: dict[str, state.TenantPlugin]) -> list[str]:
    enabled = {pid: p for pid, p in plugins.items() if p.enabled and pid.startswith("fonte-")}
    configured = plugin.config.get("fontes")
    if isinstance(configured, list) and configured:
        return [pid for pid in dict.fromkeys(configured) if pid in enabled]
    named = [*manifest.default_fontes, *manifest.dependencies.all_of, *manifest.dependencies.any_of]
    first = [pid for pid in dict.fromkeys(manifest.default_fontes) if pid in enabled]
    rest = sorted((pid for pid in dict.fromkeys(named) if pid in enabled and pid not in first),
                  key=lambda pid: (enabled[pid].priority, pid))
    return first + rest


def resolve(tables: TablesDB, tenant_id: str, database_id: str, category: str,
            plugins: dict[str, state.TenantPlugin] | None = None) -> Route:
    """The route for ``category``; 409 ``plugin_not_enabled``/``no_fonte_enabled`` before any money moves.

    ``plugins``: the tenant's plugin rows when this execution already read them (``state.load``); the
    manifest comes from the warm worker's catalog cache (``catalog.cached_manifest``)."""
    plugin_id = plugin_for(category)
    plugins = state.load(tables, database_id) if plugins is None else plugins
    plugin = plugins.get(plugin_id)
    if plugin is None or not plugin.enabled:
        raise Conflict(f"The {category} consulta is not enabled for this tenant.", code="plugin_not_enabled",
                       details={"plugin_id": plugin_id})
    manifest = catalog_module.cached_manifest(tables, plugin_id)
    if manifest is None:
        raise Conflict(f"{plugin_id} is not in the plugin catalog.", code="plugin_not_enabled",
                       details={"plugin_id": plugin_id})
    order = fonte_order(manifest, plugin, plugins)
    if not order:
        raise Conflict(f"No fonte is enabled for the {category} consulta.", code="no_fonte_enabled",
                       details={"plugin_id": plugin_id})
    fontes = [FonteRef(id=pid, config=plugins[pid].full_config(tenant_id)) for pid in order]
    return Route(plugin_id, manifest, plugin.full_config(tenant_id), fontes)


__all__ = ["Route", "fonte_order", "plugin_for", "resolve"]
