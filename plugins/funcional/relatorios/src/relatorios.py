"""``RelatoriosPlugin``: the plugin contract side of the reports (they read; no events, no ``/execute``)."""

from __future__ import annotations

from pathlib import Path

from bigtech.plugins import Plugin, PluginContext, PluginResult, Status


class RelatoriosPlugin(Plugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def execute(self, ctx: PluginContext) -> PluginResult:
        return PluginResult.error(Status.FAILED, "unsupported", "funcional-relatorios has no /execute: use its routes.")
