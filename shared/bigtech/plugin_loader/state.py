"""A tenant's plugins: the ``plugins`` table of ``tenant_<id>`` (row id = plugin id).

A row keeps the plugin's state and config split in two: ``config`` holds the non-secret fields as
JSON; ``secrets`` holds ``{"fields": [names], "sealed": "v1.…"}`` where ``sealed`` is the secret
fields AES-GCM encrypted (``bigtech.secrets_box``), bound to ``<tenant>/<plugin>``. The field names
are kept in clear so listings can say which secrets are set without decrypting anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .. import secrets_box
from ..plugins.manifest import Manifest
from ..uow import UnitOfWork

TABLE = "plugins"
DEFAULT_PRIORITY = 100


@dataclass(frozen=True)
class TenantPlugin:
    plugin_id: str
    enabled: bool = False
    config: dict[str, Any] = field(default_factory=dict)  # non-secret fields only
    secret_fields: tuple[str, ...] = ()
    sealed: str | None = None
    priority: int = DEFAULT_PRIORITY
    version: str | None = None
    exists: bool = False
    updated_at: str | None = None

    def secrets(self, tenant_id: str) -> dict[str, Any]:
        """The decrypted secret fields (needs ``BIGTECH_SECRETS_KEY`` when there are any)."""
        if not self.sealed:
            return {}
        return secrets_box.open_sealed(self.sealed, associated(tenant_id, self.plugin_id))

    def full_config(self, tenant_id: str) -> dict[str, Any]:
        """Config with secrets decrypted: only for the plugin's own execution, never for a response."""
        return {**self.config, **self.secrets(tenant_id)}

    def to_public(self, manifest: Manifest | None = None) -> dict[str, Any]:
        """Safe to return: non-secret config, the *names* of the secrets that are set, never their values."""
        public: dict[str, Any] = {
            "id": self.plugin_id, "enabled": self.enabled, "config": dict(self.config),
            "secrets_set": list(self.secret_fields), "priority": self.priority, "version": self.version,
            "updated_at": self.updated_at,
        }
        if manifest is not None:
            public.update({"type": manifest.type, "name": manifest.name, "category": manifest.category,
                           "catalog_version": manifest.version})
        return public


def associated(tenant_id: str, plugin_id: str) -> str:
    return f"{tenant_id}/{plugin_id}"


def from_row(row: Any) -> TenantPlugin:
    data = row.data
    try:
        config = json.loads(data.get("config") or "{}")
    except ValueError:
        config = {}
    try:
        secrets = json.loads(data.get("secrets") or "{}")
    except ValueError:
        secrets = {}
    return TenantPlugin(
        plugin_id=str(data.get("plugin_id") or row.id),
        enabled=bool(data.get("enabled")),
        config=config if isinstance(config, dict) else {},
        secret_fields=tuple(secrets.get("fields") or ()) if isinstance(secrets, dict) else (),
        sealed=secrets.get("sealed") if isinstance(secrets, dict) else None,
        priority=int(data.get("priority") if data.get("priority") is not None else DEFAULT_PRIORITY),
        version=data.get("version"),
        exists=True,
        updated_at=getattr(row, "updatedat", None) or None,
    )


def load(tables: TablesDB, database_id: str) -> dict[str, TenantPlugin]:
    """Every plugin row of the tenant (one call; a tenant has far fewer than 100 plugins)."""
    rows = tables.list_rows(database_id, TABLE, [Query.limit(100)], total=False).rows
    return {plugin.plugin_id: plugin for plugin in map(from_row, rows)}


def row_data(tenant_id: str, plugin_id: str, *, enabled: bool, config: dict[str, Any], secrets: dict[str, Any],
             priority: int, version: str | None) -> dict[str, Any]:
    """The row for a plugin's new state; secrets are sealed here (the only place they are encrypted)."""
    sealed = {"fields": sorted(secrets), "sealed": secrets_box.seal(secrets, associated(tenant_id, plugin_id))} \
        if secrets else {}
    return {
        "plugin_id": plugin_id, "enabled": enabled,
        "config": json.dumps(config, sort_keys=True, separators=(",", ":")),
        "secrets": json.dumps(sealed, sort_keys=True, separators=(",", ":")) if sealed else None,
        "priority": priority, "version": version,
    }


def stage_row(unit: UnitOfWork, database_id: str, plugin_id: str, data: dict[str, Any]) -> None:
    unit.upsert(database_id, TABLE, plugin_id, data)


def enabled_ids(plugins: dict[str, TenantPlugin]) -> set[str]:
    return {plugin_id for plugin_id, plugin in plugins.items() if plugin.enabled}


__all__ = ["TABLE", "TenantPlugin", "associated", "enabled_ids", "from_row", "load", "row_data", "stage_row"]
