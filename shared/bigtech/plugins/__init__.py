"""The plugin SDK: contract models, manifest checking, ``Plugin`` bases, ``serve`` and fonte calls.

A plugin function's ``src/main.py`` is one line of substance::

    from bigtech.plugins import serve
    from .plugin import SandboxFonte

    main = serve(SandboxFonte())

See ``docs/plugins.md`` for the wire protocol and how to write a plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .base import Plugin
    from .consulta import ConsultaPlugin
    from .contract import (
        ExecuteRequest,
        FonteRef,
        LifecycleRequest,
        PluginContext,
        PluginError,
        PluginResult,
        SourceAttempt,
        Status,
    )
    from .fallback import FonteRun, QueryOutcome, falls_back
    from .fonte import FontePlugin, FonteQuery, parse_query
    from .fonte_client import AppwriteFonteClient, FakeFonteClient, FonteClient
    from .http_fonte import HttpAttempt, HttpFonte, SourceFailure
    from .inputs import ConsultaInput, validate_input
    from .manifest import Manifest, ManifestError, check_config, load_manifest, parse_manifest
    from .service import build_router, run_execute, serve

# Imported on first use: CORE functions read the contract models without loading the manifest checker
# (jsonschema), the outbound HTTP client (httpx) or the plugin server.
_EXPORTS = {
    "Plugin": ".base",
    "ConsultaPlugin": ".consulta",
    "FonteRun": ".fallback",
    "QueryOutcome": ".fallback",
    "falls_back": ".fallback",
    "FontePlugin": ".fonte",
    "FonteQuery": ".fonte",
    "parse_query": ".fonte",
    "AppwriteFonteClient": ".fonte_client",
    "FakeFonteClient": ".fonte_client",
    "FonteClient": ".fonte_client",
    "HttpAttempt": ".http_fonte",
    "HttpFonte": ".http_fonte",
    "SourceFailure": ".http_fonte",
    "ConsultaInput": ".inputs",
    "validate_input": ".inputs",
    "Manifest": ".manifest",
    "ManifestError": ".manifest",
    "check_config": ".manifest",
    "load_manifest": ".manifest",
    "parse_manifest": ".manifest",
    "build_router": ".service",
    "run_execute": ".service",
    "serve": ".service",
    "ExecuteRequest": ".contract",
    "FonteRef": ".contract",
    "LifecycleRequest": ".contract",
    "PluginContext": ".contract",
    "PluginError": ".contract",
    "PluginResult": ".contract",
    "SourceAttempt": ".contract",
    "Status": ".contract",
}
__getattr__ = exports(__name__, _EXPORTS)

__all__ = [
    "AppwriteFonteClient",
    "ConsultaInput",
    "ConsultaPlugin",
    "ExecuteRequest",
    "FakeFonteClient",
    "FonteClient",
    "FontePlugin",
    "FonteQuery",
    "FonteRef",
    "FonteRun",
    "HttpAttempt",
    "HttpFonte",
    "LifecycleRequest",
    "Manifest",
    "ManifestError",
    "Plugin",
    "PluginContext",
    "PluginError",
    "PluginResult",
    "QueryOutcome",
    "SourceAttempt",
    "SourceFailure",
    "Status",
    "build_router",
    "check_config",
    "falls_back",
    "load_manifest",
    "parse_manifest",
    "parse_query",
    "run_execute",
    "serve",
    "validate_input",
]
