"""``WebhooksPlugin``: the plugin contract side (lifecycle, ``/events``) of outgoing webhooks.

An event needs the tenant's rows, read with this execution's own key (scopes ``rows.read``/``rows.write``):
``handle_event(tables, envelope)`` gets them from ``main``'s ``/events`` route, so nothing per tenant or per
execution lives on the plugin object. A tenant that has not enabled the plugin gets nothing (the relay
delivers every tenant's events to every subscriber).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from appwrite.services.tables_db import TablesDB
from pydantic import ValidationError

from bigtech.bus.envelope import EventEnvelope
from bigtech.plugins import Plugin, PluginContext, PluginResult, Status
from bigtech.tenancy import valid_tenant_id

from . import engine

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class WebhooksPlugin(Plugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def execute(self, ctx: PluginContext) -> PluginResult:
        return PluginResult.error(Status.FAILED, "unsupported", "funcional-webhooks has no /execute: use its routes.")

    def handle_event(self, tables: TablesDB, envelope: dict[str, Any]) -> dict[str, Any]:
        try:  # everything from outside is hostile, the relay's POST included: the envelope's own model
            checked = EventEnvelope.model_validate(envelope)
        except ValidationError:
            return {"endpoints": 0, "reason": "invalid_envelope"}
        if not valid_tenant_id(checked.tenant_id) or not ID_PATTERN.match(checked.id):
            return {"endpoints": 0, "reason": "invalid_envelope"}
        config = engine.tenant_config(tables, envelope["tenant_id"])
        if config is None:
            return {"endpoints": 0, "reason": "not_enabled"}
        return engine.enqueue(tables, envelope, config)
