"""The plugin SDK: contract models, manifest checking, ``Plugin`` bases, ``serve`` and fonte calls.

A plugin function's ``src/main.py`` is one line of substance::

    from bigtech.plugins import serve
    from .plugin import SandboxFonte

    main = serve(SandboxFonte())

See ``docs/plugins.md`` for the wire protocol and how to write a plugin.
"""

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
