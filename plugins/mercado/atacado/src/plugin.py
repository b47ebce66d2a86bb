"""The plugin side of mercado-atacado: its manifest, lifecycle and the tenant config it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from appwrite.services.tables_db import TablesDB

from bigtech.errors import Conflict
from bigtech.plugin_loader import state
from bigtech.plugins import PluginContext, PluginResult, Status
from bigtech.plugins.base import Plugin

PLUGIN_ID = "mercado-atacado"


class AtacadoPlugin(Plugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def execute(self, ctx: PluginContext) -> PluginResult:
        # A market plugin answers HTTP itself (the public API); it runs no consulta for CORE.
        return PluginResult.error(Status.FAILED, "unsupported", "mercado-atacado runs no consulta for CORE.")


PLUGIN = AtacadoPlugin()


def tenant_config(tables: TablesDB, database_id: str) -> dict[str, Any]:
    """The tenant's effective config; 409 ``plugin_not_enabled`` when the tenant has not enabled the plugin."""
    found = state.load(tables, database_id).get(PLUGIN_ID)
    if found is None or not found.enabled:
        raise Conflict("mercado-atacado is not enabled for this tenant.", code="plugin_not_enabled",
                       details={"plugin_id": PLUGIN_ID})
    return PLUGIN.effective_config(found.config)
