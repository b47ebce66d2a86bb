"""A tenant's config for one plugin, read by the plugin itself (the webhook route has no CORE in between).

CORE's plugin loader keeps one row per plugin in the tenant's ``plugins`` table (row id = plugin id,
``bigtech.plugin_loader.state``): public fields as JSON in ``config``, secret fields sealed with
``bigtech.secrets_box`` (AES-GCM bound to ``<tenant>/<plugin>``). A payment plugin's function key
(``rows.read``) reads that row when a gateway calls ``/webhook/{tenant_id}`` and opens the secrets with
the same deployment key (``BIGTECH_SECRETS_KEY``). ``None`` means the tenant has not enabled this
plugin, which the webhook route answers with 401 like any unauthenticated delivery.
"""

from __future__ import annotations

from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from ..plugin_loader import state
from ..schema.tenant import tenant_database_id
from ..secrets_box import SecretsCorrupted


def load_plugin_config(tables: TablesDB, tenant_id: str, plugin_id: str, *,
                       require_enabled: bool = True) -> dict[str, Any] | None:
    """The tenant's config (secrets decrypted) for ``plugin_id``; ``None`` if absent, disabled or unreadable."""
    try:
        row = tables.get_row(tenant_database_id(tenant_id), state.TABLE, plugin_id)
    except AppwriteException as error:
        if error.code in (404, 400):  # no such tenant database, or no row
            return None
        raise
    plugin = state.from_row(row)
    if require_enabled and not plugin.enabled:
        return None
    try:
        return plugin.full_config(tenant_id)
    except SecretsCorrupted:  # a row copied from elsewhere, or a rotated key: treat as not configured
        return None


__all__ = ["load_plugin_config"]
