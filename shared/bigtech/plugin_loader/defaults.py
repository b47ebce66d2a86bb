"""The plugins a new tenant starts with: the platform setting ``default_plugins``.

On the local stack (and by default) that is ``fonte-sandbox`` and the three consulta plugins over it,
so a consulta works on a new tenant out of the box. ``enable_default_plugins`` is called by the
``tenants`` function right after a tenant is created: it makes sure the catalog knows the plugins
(fetching the missing manifests if needed), enables fontes before the plugins that depend on them,
calls each plugin's ``POST /enable``, and commits every row in one audited change with one
``plugin.enabled`` event per plugin. A plugin that cannot be enabled (not deployed, config required,
dependency missing) is skipped and reported, never fatal: the tenant exists either way. Secret fields
marked ``"generated"`` (the sandbox gateway's webhook secret) get a fresh random value per tenant here,
sealed into the row like any secret.
"""

from __future__ import annotations

from typing import Any

from appwrite.client import Client
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from .. import platform_settings, secrets_box
from ..audit import AuditTrail, audit_id
from ..audited import Actor, Event, commit_change
from ..errors import BigtechError
from ..plugins.manifest import Manifest, check_config
from ..schema.tenant import tenant_database_id
from ..uow import UnitOfWork
from . import catalog as catalog_module
from . import lifecycle, rules, state
from .changes import with_generated_secrets

DEFAULT_PLUGINS = platform_settings.DEFAULT_PLUGINS
TYPE_ORDER = {"fonte": 0, "consulta": 1, "pagamento": 2, "mercado": 3, "funcional": 4}


def _can_seal() -> bool:
    """Whether generated secrets can be stored (``BIGTECH_SECRETS_KEY``); a tenant is created either way."""
    try:
        secrets_box.load_key()
    except secrets_box.SecretsKeyMissing:
        return False
    return True


def default_plugin_ids(tables: TablesDB) -> list[str]:
    settings, _ = platform_settings.load(tables)
    configured = getattr(settings, "default_plugins", None)
    return list(DEFAULT_PLUGINS if configured is None else configured)


def ensure_in_catalog(tables: TablesDB, functions: Functions, actor: Actor, wanted: list[str]) -> dict[str, Manifest]:
    """The catalog, after fetching what it lacks: every plugin when it is empty (the first tenant of a
    new installation), else only the ``wanted`` plugins it does not know yet."""
    known = catalog_module.load_catalog(tables)
    missing = [plugin_id for plugin_id in wanted if plugin_id not in known]
    if missing:
        fetched = catalog_module.fetch_all(functions, only=None if not known else missing)
        if fetched.manifests:
            commit_change(tables, AuditTrail.platform(), actor, action="plugin_catalog.sync",
                          resource=("plugin_catalog", "catalog"),
                          details={"synced": [m.id for m in fetched.manifests], "errors": fetched.errors,
                                   "reason": "default plugins of a new tenant"},
                          stage=lambda unit: catalog_module.stage_rows(unit, fetched.manifests))
            known.update({m.id: m for m in fetched.manifests})
    return known


def enable_default_plugins(client: Client, tenant_id: str, actor: Actor,
                           plugin_ids: list[str] | None = None) -> dict[str, Any]:
    """Enable the default plugins for a freshly created tenant; ``{enabled, skipped, audit_id}``."""
    tables, functions = TablesDB(client), Functions(client)
    wanted = default_plugin_ids(tables) if plugin_ids is None else list(plugin_ids)
    if not wanted:
        return {"enabled": [], "skipped": [], "audit_id": None}
    known = ensure_in_catalog(tables, functions, actor, wanted)
    ordered = sorted(dict.fromkeys(wanted),
                     key=lambda pid: (TYPE_ORDER.get(pid.split("-", 1)[0], 9), wanted.index(pid)))
    database_id = tenant_database_id(tenant_id)
    current = state.load(tables, database_id)
    enabled = state.enabled_ids(current)
    chosen: list[Manifest] = []
    generated: dict[str, dict[str, Any]] = {}  # plugin id → its generated secrets (random per tenant)
    skipped: list[dict[str, str]] = []
    for plugin_id in ordered:
        manifest = known.get(plugin_id)
        if manifest is None:
            skipped.append({"plugin_id": plugin_id, "reason": "not_in_catalog"})
            continue
        if plugin_id in enabled:
            skipped.append({"plugin_id": plugin_id, "reason": "already_enabled"})
            continue
        secrets = with_generated_secrets(manifest, {})
        if secrets and not _can_seal():
            skipped.append({"plugin_id": plugin_id, "reason": "secrets_key_missing"})
            continue
        effective = manifest.with_defaults(secrets)
        if check_config(manifest, effective):
            skipped.append({"plugin_id": plugin_id, "reason": "config_required"})
            continue
        if rules.missing_for(manifest, enabled):
            skipped.append({"plugin_id": plugin_id, "reason": "dependency_missing"})
            continue
        try:
            lifecycle.call(functions, plugin_id, "enable", tenant_id, effective)
        except BigtechError as error:
            skipped.append({"plugin_id": plugin_id, "reason": error.code})
            continue
        enabled.add(plugin_id)
        chosen.append(manifest)
        generated[plugin_id] = secrets
    if not chosen:
        return {"enabled": [], "skipped": skipped, "audit_id": None}

    def stage(unit: UnitOfWork) -> None:
        for manifest in chosen:
            state.stage_row(unit, database_id, manifest.id, state.row_data(
                tenant_id, manifest.id, enabled=True, config={}, secrets=generated[manifest.id],
                priority=state.DEFAULT_PRIORITY,
                version=manifest.version))

    events = [Event("plugin.enabled", tenant_id, {"plugin_id": m.id, "version": m.version, "enabled": True,
                                                  "config": {}, "secrets_set": sorted(generated[m.id]),
                                                  "default": True})
              for m in chosen]
    entry, _ = commit_change(tables, AuditTrail.tenant(database_id), actor, action="plugins.enable_defaults",
                             resource=("tenant", tenant_id),
                             details={"enabled": [m.id for m in chosen], "skipped": skipped},
                             stage=stage, events=events)
    return {"enabled": [m.id for m in chosen], "skipped": skipped, "audit_id": audit_id(entry)}


__all__ = ["DEFAULT_PLUGINS", "default_plugin_ids", "enable_default_plugins", "ensure_in_catalog"]
