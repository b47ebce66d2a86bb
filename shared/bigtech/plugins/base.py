"""``Plugin``: the base class every plugin subclasses (the Python form of the seed's TypeScript contract).

Identity (``id``, ``type``, ``version``) comes from the plugin's own ``plugin.json`` so there is one
source of truth; a subclass only points at it and implements ``execute`` (and, if it needs to,
``install``/``enable``/``disable``/``on_event``)::

    class Sandbox(Plugin):
        manifest_path = Path(__file__).resolve().parent.parent / "plugin.json"

        def execute(self, ctx: PluginContext) -> PluginResult: ...

Plugins keep no per-tenant state in memory: a warm worker serves every tenant, and everything a call
needs (config, fontes) arrives in its request.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from .contract import PluginContext, PluginResult
from .manifest import Manifest, check_config, load_manifest


class Plugin:
    manifest_path: ClassVar[Path | str | None] = None

    def __init__(self, manifest: Manifest | None = None) -> None:
        if manifest is None:
            if self.manifest_path is None:
                raise TypeError(f"{type(self).__name__} must set manifest_path or be given a manifest.")
            manifest = load_manifest(self.manifest_path)
        self.manifest = manifest

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def type(self) -> str:
        return self.manifest.type

    @property
    def version(self) -> str:
        return self.manifest.version

    # -- lifecycle (CORE's plugin loader calls these) ----------------------------------------------

    def install(self) -> dict[str, Any]:
        """Once per deployment, before any tenant enables the plugin (e.g. create provider webhooks)."""
        return {"installed": True}

    def enable(self, tenant_id: str, config: dict[str, Any]) -> dict[str, Any]:
        """A tenant enabled or reconfigured the plugin; ``config`` is already schema-valid (defaults
        applied). Raise a ``BigtechError`` (e.g. ``Unprocessable``) to refuse, e.g. a rejected token."""
        return {"enabled": True}

    def disable(self, tenant_id: str, config: dict[str, Any]) -> dict[str, Any]:
        return {"disabled": True}

    def execute(self, ctx: PluginContext) -> PluginResult:
        raise NotImplementedError

    def on_event(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """An event from the bus the manifest subscribes to; must be idempotent (delivery is at least once)."""
        return {"processed": True}

    # -- helpers ----------------------------------------------------------------------------------

    def config_problems(self, config: dict[str, Any]) -> list[dict[str, str]]:
        return check_config(self.manifest, config)

    def effective_config(self, config: dict[str, Any]) -> dict[str, Any]:
        return self.manifest.with_defaults(config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} {self.version}>"


__all__ = ["Plugin"]
