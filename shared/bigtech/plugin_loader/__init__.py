"""CORE's plugin loader: the catalog, each tenant's plugins (state, config, encrypted secrets), the
dependency rules, lifecycle calls, the default set of a new tenant, and the routing of a consulta to
its plugin and fontes. The plugin SDK itself (what plugins import) is ``bigtech.plugins``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from . import catalog, changes, defaults, lifecycle, routing, rules, state
    from .changes import PluginChange, apply
    from .defaults import DEFAULT_PLUGINS, enable_default_plugins
    from .lifecycle import PluginUnavailable

# Imported on first use (PEP 562): a consulta needs ``state`` and ``routing``; the changes, lifecycle
# calls and the defaults of a new tenant (platform settings) load only where plugins are managed.
_EXPORTS = {
    "catalog": ".catalog",
    "changes": ".changes",
    "defaults": ".defaults",
    "lifecycle": ".lifecycle",
    "routing": ".routing",
    "rules": ".rules",
    "state": ".state",
    "PluginChange": ".changes",
    "apply": ".changes",
    "DEFAULT_PLUGINS": ".defaults",
    "enable_default_plugins": ".defaults",
    "PluginUnavailable": ".lifecycle",
}
__getattr__ = exports(__name__, _EXPORTS)

__all__ = [
    "DEFAULT_PLUGINS",
    "PluginChange",
    "PluginUnavailable",
    "apply",
    "catalog",
    "changes",
    "defaults",
    "enable_default_plugins",
    "lifecycle",
    "routing",
    "rules",
    "state",
]
