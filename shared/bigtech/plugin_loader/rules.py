"""Dependency rules between a tenant's plugins, enforced both ways.

- enabling: every ``dependencies.all_of`` plugin, and one of ``dependencies.any_of``, must be enabled
  (a consulta plugin needs its fontes);
- disabling: refused while another enabled plugin would lose what it needs (the last fonte of an
  enabled consulta).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import Conflict
from ..plugins.manifest import Manifest


def missing_for(manifest: Manifest, enabled: set[str]) -> list[str]:
    return manifest.dependencies.missing(enabled - {manifest.id})


def needed_by(plugin_id: str, enabled: set[str], catalog: Mapping[str, Manifest]) -> list[str]:
    """Enabled plugins that are satisfied now and would not be without ``plugin_id``."""
    after = enabled - {plugin_id}
    blocked = []
    for other in sorted(after):
        manifest = catalog.get(other)
        if manifest is not None and not manifest.dependencies.missing(enabled) and manifest.dependencies.missing(after):
            blocked.append(other)
    return blocked


def check_enable(manifest: Manifest, enabled: set[str]) -> None:
    missing = missing_for(manifest, enabled)
    if missing:
        raise Conflict(
            f"{manifest.id} needs plugins that are not enabled: {', '.join(missing)}.",
            code="plugin_dependency_missing", details={"plugin_id": manifest.id, "missing": missing},
        )


def check_disable(plugin_id: str, enabled: set[str], catalog: Mapping[str, Manifest]) -> None:
    if plugin_id not in enabled:
        return
    blocked = needed_by(plugin_id, enabled, catalog)
    if blocked:
        raise Conflict(
            f"{plugin_id} is needed by enabled plugins: {', '.join(blocked)}.",
            code="plugin_required", details={"plugin_id": plugin_id, "needed_by": blocked},
        )


__all__ = ["check_disable", "check_enable", "missing_for", "needed_by"]
