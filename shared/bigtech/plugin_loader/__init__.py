"""CORE's plugin loader: the catalog, each tenant's plugins (state, config, encrypted secrets), the
dependency rules, lifecycle calls, the default set of a new tenant, and the routing of a consulta to
its plugin and fontes. The plugin SDK itself (what plugins import) is ``bigtech.plugins``.
"""

from . import catalog, changes, defaults, lifecycle, routing, rules, state
from .changes import PluginChange, apply
from .defaults import DEFAULT_PLUGINS, enable_default_plugins
from .lifecycle import PluginUnavailable

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
