"""``serve(plugin)`` → the plugin function's ``main(context)``.

Routes (all JSON; see ``docs/plugins.md`` for bodies):

====== ============ ======================= ==============================================
method path         action                  answer
====== ============ ======================= ==============================================
GET    /manifest    plugin.manifest         the manifest
POST   /install     plugin.install          ``{"installed": true, ...}``
POST   /enable      plugin.enable           ``{"enabled": true, ...}`` (422 on a bad config)
POST   /disable     plugin.disable          ``{"disabled": true, ...}``
POST   /execute     plugin.execute          a ``PluginResult``, HTTP 200 whatever its status
POST   /events      plugin.events           ``{"processed": true|false}``
====== ============ ======================= ==============================================

Only CORE calls the lifecycle, ``/execute`` and ``/events`` routes: every call must carry a token only
CORE can mint (``core_calls``: an HMAC over the exact request under a key derived from
``BIGTECH_SECRETS_KEY``), else 401 ``core_only`` — whatever the function's execute roles (a payment
plugin is executable by ``any`` for its webhooks, and every execution gets a dynamic key, so neither
the roles nor ``x-appwrite-key`` prove the caller). ``GET /manifest`` is public: it holds no secret.
``/execute`` never answers 500 for a plugin bug: the crash is logged (masked) and answered as
``failed``/``plugin_error`` so the consulta falls back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from typing import Any

from ..errors import Unauthorized, Unprocessable
from ..http import Request, Router
from ..http import serve as serve_router
from ..http.routing import Route
from ..log import FunctionLogger
from . import core_calls
from .base import Plugin
from .contract import ExecuteRequest, LifecycleRequest, PluginContext, PluginResult, Status

MANIFEST_ACTION = "plugin.manifest"
PUBLIC_PLUGIN_ACTIONS = frozenset({MANIFEST_ACTION})

Gate = Callable[[Request, Route], None]


def called_by_core(request: Request, plugin_id: str) -> bool:
    """Whether the request carries a valid CORE token for exactly this plugin, method, path and body."""
    return core_calls.verify(request.header(core_calls.HEADER), plugin_id, request.method, request.path,
                             request.body)


def core_only(plugin_id: str, public: Collection[str] = ()) -> Gate:
    """The ``before`` hook of a plugin function: public actions pass, everything else needs CORE's token."""
    open_actions = PUBLIC_PLUGIN_ACTIONS | frozenset(public)

    def gate(request: Request, route: Route) -> None:
        if route.action in open_actions:
            return
        if not called_by_core(request, plugin_id):
            raise Unauthorized("This plugin route is called by CORE only.", code="core_only")

    return gate


def _checked_config(plugin: Plugin, config: dict[str, Any]) -> dict[str, Any]:
    effective = plugin.effective_config(config)
    details = plugin.config_problems(effective)
    if details:
        raise Unprocessable("Invalid plugin config.", code="invalid_config", details=details)
    return effective


def run_execute(plugin: Plugin, body: ExecuteRequest, runtime: Any = None) -> PluginResult:
    """Everything ``POST /execute`` does, callable in-process (the fake fonte client uses it)."""
    log = FunctionLogger(runtime) if runtime is not None else None
    effective = plugin.effective_config(body.config)
    details = plugin.config_problems(effective)
    if details:
        fields = ", ".join(d["field"] for d in details)
        return PluginResult.error(Status.FAILED, "invalid_config", f"Invalid config: {fields}.")
    ctx = PluginContext.from_request(body.model_copy(update={"config": effective}), runtime)
    started = time.monotonic()
    try:
        result = plugin.execute(ctx)
    except Exception as error:  # a plugin bug must not look like a transport failure
        if log is not None:
            log.exception(f"{plugin.id}: execute crashed (request {body.request_id})", error)
        return PluginResult.error(Status.FAILED, "plugin_error", f"{plugin.id} failed unexpectedly.")
    if log is not None:
        elapsed = int((time.monotonic() - started) * 1000)
        log.log(f"{plugin.id}: request {body.request_id} tenant {body.tenant_id} → {result.status.value} "
                f"billable={result.billable} cost={result.provider_cost} in {elapsed} ms")
    return result


def build_router(plugin: Plugin) -> Router:
    router = Router()

    @router.route("GET", "/manifest", action="plugin.manifest")
    def manifest(request: Request) -> dict[str, Any]:
        return plugin.manifest.to_json()

    @router.route("POST", "/install", action="plugin.install")
    def install(request: Request) -> dict[str, Any]:
        return {"plugin": plugin.id, "version": plugin.version, **plugin.install()}

    @router.route("POST", "/enable", action="plugin.enable")
    def enable(request: Request) -> dict[str, Any]:
        body = request.model(LifecycleRequest)
        if not body.tenant_id:
            raise Unprocessable.field("tenant_id", "required")
        config = _checked_config(plugin, body.config)
        return {"plugin": plugin.id, "tenant_id": body.tenant_id, **plugin.enable(body.tenant_id, config)}

    @router.route("POST", "/disable", action="plugin.disable")
    def disable(request: Request) -> dict[str, Any]:
        body = request.model(LifecycleRequest)
        if not body.tenant_id:
            raise Unprocessable.field("tenant_id", "required")
        config = plugin.effective_config(body.config)
        return {"plugin": plugin.id, "tenant_id": body.tenant_id, **plugin.disable(body.tenant_id, config)}

    @router.route("POST", "/execute", action="plugin.execute")
    def execute(request: Request) -> dict[str, Any]:
        body = request.model(ExecuteRequest)
        return run_execute(plugin, body, request.context).to_json()

    @router.route("POST", "/events", action="plugin.events")
    def events(request: Request) -> dict[str, Any]:
        envelope = request.json()
        if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
            raise Unprocessable.field("type", "an event envelope needs a type")
        if not plugin.manifest.subscribes(envelope["type"]):
            return {"processed": False, "reason": "not_subscribed"}
        return {"processed": True, **plugin.on_event(envelope)}

    return router


def serve(plugin: Plugin) -> Callable[[Any], Any]:
    """``main = serve(MyPlugin())``; ``main.plugin`` and ``main.router`` are exposed to tests."""
    main = serve_router(build_router(plugin), before=[core_only(plugin.id)])
    main.plugin = plugin  # type: ignore[attr-defined]
    return main


__all__ = ["PUBLIC_PLUGIN_ACTIONS", "build_router", "called_by_core", "core_only", "run_execute", "serve"]
