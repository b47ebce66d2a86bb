"""Enable, configure and disable one plugin for one tenant: validate, check dependencies, call the
plugin's lifecycle route, then commit the row with its audit entry and ``plugin.*`` event.

Order matters so that a refused change changes nothing: the config is checked against the manifest's
JSON Schema (422 with field errors) and the dependencies against the tenant's plugins (409) before the
plugin is called; the plugin may still refuse (422, e.g. a rejected token) before anything is written.
The dependency check runs again inside the transaction's build on fresh rows, and every change also
re-writes (unchanged) the tenant's other enabled plugin rows it read, so two concurrent changes (enable a
consulta / disable its last fonte) touch a common row and Appwrite's optimistic check fails the second
commit (409): it is rebuilt on the first one's result and refused if it no longer holds. (Audit entries
no longer serialize changes: they are written unsealed and chained after the commit.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from secrets import token_urlsafe
from typing import Any

from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from ..audit import AuditTrail, audit_id
from ..audited import Actor, Event, commit_change
from ..errors import NotFound, Unprocessable
from ..plugins.manifest import Manifest, check_config
from ..uow import UnitOfWork
from . import catalog as catalog_module
from . import lifecycle, rules, state
from .state import TenantPlugin


@dataclass(frozen=True)
class PluginChange:
    """What the caller asks. ``None`` means "keep": ``enabled`` as it is, ``config`` as stored.

    A given ``config`` replaces the stored non-secret fields; a secret field left out keeps its stored
    value (so a client never has to resend a token it cannot read back) and a secret set to ``null``
    is removed. ``forget`` (``DELETE``) disables and drops config and secrets altogether.
    """

    plugin_id: str
    enabled: bool | None = None
    config: dict[str, Any] | None = None
    priority: int | None = None
    forget: bool = False


@dataclass(frozen=True)
class Plan:
    enabled: bool
    config: dict[str, Any]
    secrets: dict[str, Any]
    priority: int
    effective: dict[str, Any]  # config + secrets + schema defaults: what the plugin receives
    config_changed: bool
    state_changed: bool

    @property
    def changed(self) -> bool:
        return self.config_changed or self.state_changed


def config_problems(manifest: Manifest, effective: dict[str, Any]) -> None:
    details = check_config(manifest, effective)
    known = set(manifest.config.get("properties", {}))
    if any(d["message"] == "unknown field" for d in details) and manifest.config.get("additionalProperties") is False:
        # name each unknown field (the SDK reports them together as "config")
        details = [d for d in details if d["message"] != "unknown field"]
        details += [{"field": f"config.{name}", "message": "unknown field"} for name in sorted(set(effective) - known)]
    if details:
        raise Unprocessable("Invalid plugin config.", code="invalid_config", details=details)


def with_generated_secrets(manifest: Manifest, secrets: dict[str, Any]) -> dict[str, Any]:
    """``secrets`` plus a fresh random value for each ``generated`` secret field it lacks.

    Such a secret is never a constant and never derived from one: each tenant gets its own when it
    enables the plugin, sealed like any other secret (a tenant may still set or replace it).
    """
    missing = [name for name in manifest.generated_secret_fields if not secrets.get(name)]
    return {**secrets, **{name: token_urlsafe(32) for name in missing}}


def plan(manifest: Manifest, current: TenantPlugin, change: PluginChange, tenant_id: str) -> Plan:
    secret_names = set(manifest.secret_fields)
    old_secrets = current.secrets(tenant_id)
    if change.forget:
        config: dict[str, Any] = {}
        secrets: dict[str, Any] = {}
    elif change.config is None:
        config, secrets = dict(current.config), dict(old_secrets)
    else:
        config = {k: v for k, v in change.config.items() if k not in secret_names}
        secrets = dict(old_secrets)
        for name in secret_names & set(change.config):
            if change.config[name] is None:
                secrets.pop(name, None)
            else:
                secrets[name] = change.config[name]
    enabled = False if change.forget else (current.enabled if change.enabled is None else change.enabled)
    priority = current.priority if change.priority is None else change.priority
    if enabled:
        secrets = with_generated_secrets(manifest, secrets)
    effective = manifest.with_defaults({**config, **secrets})
    if enabled or change.config is not None:
        config_problems(manifest, effective)
    return Plan(
        enabled=enabled, config=config, secrets=secrets, priority=priority, effective=effective,
        config_changed=(config != current.config or secrets != old_secrets or priority != current.priority),
        state_changed=enabled != current.enabled,
    )


def _event_type(current: TenantPlugin, planned: Plan) -> tuple[str, str]:
    """(event type, audit action) for the change."""
    if planned.enabled and not current.enabled:
        return "plugin.enabled", "plugins.enable"
    if current.enabled and not planned.enabled:
        return "plugin.disabled", "plugins.disable"
    return "plugin.configured", "plugins.configure"


def apply(tables: TablesDB, functions: Functions, tenant_id: str, database_id: str, actor: Actor,
          change: PluginChange, catalog: Mapping[str, Manifest] | None = None) -> dict[str, Any]:
    """Make ``change``; returns ``{plugin, changed, audit_id}`` (public view only, never secrets)."""
    known = dict(catalog) if catalog is not None else catalog_module.load_catalog(tables)
    manifest = known.get(change.plugin_id)
    if manifest is None:
        raise NotFound(f"No plugin {change.plugin_id} in the catalog.", code="plugin_not_found")
    plugins = state.load(tables, database_id)
    current = plugins.get(change.plugin_id) or TenantPlugin(change.plugin_id)
    planned = plan(manifest, current, change, tenant_id)
    if not planned.changed:
        return {"plugin": current.to_public(manifest), "changed": False, "audit_id": None}

    enabled = state.enabled_ids(plugins)
    if planned.enabled:
        rules.check_enable(manifest, enabled)
    elif current.enabled:
        rules.check_disable(change.plugin_id, enabled, known)

    if planned.enabled:  # newly enabled, or reconfigured while enabled: the plugin sees its new config
        lifecycle.call(functions, change.plugin_id, "enable", tenant_id, planned.effective)
    elif current.enabled:
        lifecycle.call(functions, change.plugin_id, "disable", tenant_id,
                       manifest.with_defaults(current.full_config(tenant_id)))

    # Sealed once, outside the retried build: a retry commits the very same ciphertext.
    row = state.row_data(tenant_id, change.plugin_id, enabled=planned.enabled, config=planned.config,
                         secrets=planned.secrets, priority=planned.priority, version=manifest.version)
    after = TenantPlugin(change.plugin_id, planned.enabled, planned.config, tuple(sorted(planned.secrets)),
                         None, planned.priority, manifest.version, True)
    event_type, action = _event_type(current, planned)

    def stage(unit: UnitOfWork) -> None:
        fresh = state.load(tables, database_id)
        fresh_enabled = state.enabled_ids(fresh)
        if planned.enabled:
            rules.check_enable(manifest, fresh_enabled)
        elif change.plugin_id in fresh_enabled:
            rules.check_disable(change.plugin_id, fresh_enabled, known)
        state.stage_row(unit, database_id, change.plugin_id, row)
        for other_id in sorted(fresh_enabled - {change.plugin_id}):  # the rows this decision rests on
            unit.update(database_id, state.TABLE, other_id, {"version": fresh[other_id].version})

    public = after.to_public(manifest)
    details = {
        "plugin_id": change.plugin_id, "version": manifest.version, "enabled_before": current.enabled,
        "enabled": planned.enabled, "config": planned.config, "secrets_set": public["secrets_set"],
        "secrets_changed": planned.secrets != current.secrets(tenant_id), "forget": change.forget,
    }
    data = {"plugin_id": change.plugin_id, "version": manifest.version, "enabled": planned.enabled,
            "config": planned.config, "secrets_set": public["secrets_set"]}
    entry, _ = commit_change(tables, AuditTrail.tenant(database_id), actor, action=action,
                             resource=("plugin", change.plugin_id), details=details, stage=stage,
                             events=[Event(event_type, tenant_id, data)])
    public.pop("updated_at", None)
    return {"plugin": public, "changed": True, "event": event_type, "audit_id": audit_id(entry)}


__all__ = ["Plan", "PluginChange", "apply", "config_problems", "plan", "with_generated_secrets"]
