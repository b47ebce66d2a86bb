"""``serve(router)`` → the function's ``main(context)``: route, run the handler, map every error.

Error mapping, in one place so every function answers alike:

- ``BigtechError`` → its status and ``{"error": {"code", "message", "details"}}``;
- pydantic ``ValidationError`` escaping a handler → 422 ``validation_failed`` with field details,
  unless it was raised inside the Appwrite SDK (a response its models cannot parse: a server older
  than the supported one) → 502 ``upstream_incompatible``: the caller did nothing wrong;
- an ``AppwriteException`` no handler dealt with → ``upstream.translate`` (404/409/429 pass on, a
  400 from Appwrite about our own call → 400 ``invalid_request``, the rest → 502 ``upstream_error``);
- a ``RecursionError`` (input nested deep enough to defeat a parser) → 400 ``invalid_json``;
- unknown path → 404 ``route_not_found``; known path, wrong method → 405 with an ``allow`` header;
- anything else → the traceback goes to ``context.error`` (masked) and the caller gets a bare
  500 ``internal_error``: internals never leak into a response.

Every function also answers ``GET /openapi.json`` with its own OpenAPI document (``bigtech.openapi``):
``serve`` adds the route, and no ``before`` hook or rate limit runs for it (it needs no identity, makes
no Appwrite call and reveals nothing the repository's docs/openapi/ does not).

Before routing, the request passes the input limits (``limits.py``: body size, path length, path
parameters that cannot be ids); after the ``before`` hooks, the rate limit (``bigtech.ratelimit``)
counts the call when the hooks resolved an identity, and its ``RateLimit-*`` headers join the answer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from ..errors import BadRequest, BigtechError, MethodNotAllowed, TooManyRequests
from ..log import FunctionLogger
from . import limits, upstream
from .observe import observe
from .request import Request, unprocessable
from .responses import Response, json_response, to_response
from .route_doc import RouteDoc
from .routing import Route, Router

# Runs after routing and before the handler (e.g. authentication, the permission check on
# ``route.action``); raise a BigtechError to refuse the request.
BeforeHook = Callable[[Request, Route], None]

OPENAPI_PATH = "/openapi.json"
OPENAPI_ACTION = "openapi.read"  # public in the matrix; runs without the function's hooks
INTERNAL_ERROR = {"error": {"code": "internal_error", "message": "Internal error.", "details": []}}


def error_response(error: BigtechError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, MethodNotAllowed) and error.allowed:
        headers["allow"] = ", ".join(error.allowed)
    if isinstance(error, TooManyRequests):
        headers.update(error.headers)
        if error.retry_after is not None:
            headers["retry-after"] = str(error.retry_after)
    return json_response(error.to_body(), error.status, headers)


def _rate_limit(request: Request, route: Route) -> None:
    from .. import ratelimit  # local: keeps bigtech.http importable without the Appwrite SDK's services

    ratelimit.enforce(request, route)


def _run(router: Router, request: Request, before: Sequence[BeforeHook]) -> Response:
    limits.check_path(request.path)
    route, params = router.match(request.method, request.path)
    limits.check_path_params(params)
    limits.check_body_size(request.body)
    request.path_params = params
    request.route = route
    if route.action != OPENAPI_ACTION:
        for hook in before:
            hook(request, route)
        _rate_limit(request, route)
    response = to_response(route.handler(request, **params))
    response.headers = {**request.response_headers, **response.headers}
    return response


def handle(router: Router, context: Any, before: Sequence[BeforeHook] = ()) -> Response:
    """Route and run one request, turning every outcome into a ``Response``."""
    request: Request | None = None
    try:
        request = Request(context)
        return _run(router, request, before)
    except BigtechError as error:
        response = error_response(error)
    except ValidationError as error:
        response = error_response(upstream.incompatible(error) if upstream.from_sdk(error) else unprocessable(error))
    except RecursionError:
        response = error_response(BadRequest("The input is nested too deeply.", code="invalid_json"))
    except Exception as error:
        translated = upstream.translate(error)
        if translated is None:
            FunctionLogger(context).exception("Unhandled error", error)
            return json_response(INTERNAL_ERROR, 500)
        FunctionLogger(context).exception(f"Appwrite call failed → {translated.status} {translated.code}", error)
        response = error_response(translated)
    if request is not None:
        response.headers = {**request.response_headers, **response.headers}
    return response


def _add_openapi(router: Router) -> None:
    """``GET /openapi.json``: this function's document, built once per function id (it is deterministic)."""
    if any(route.method == "GET" and route.path == OPENAPI_PATH for route in router.routes):
        return
    built: dict[str, Any] = {}

    def openapi(request: Request) -> Any:
        from ..openapi import function_document  # local: only this route pays for the generator's imports

        function_id = os.environ.get("APPWRITE_FUNCTION_ID") or "function"
        if function_id not in built:
            built[function_id] = function_document(router, function_id)
        return built[function_id]

    router.add("GET", OPENAPI_PATH, openapi, action=OPENAPI_ACTION,
               doc=RouteDoc(summary="This function's OpenAPI 3.1 document (no authentication)",
                            response={"type": "object", "required": ["openapi", "paths"]}))


def serve(router: Router, *, before: Sequence[BeforeHook] = ()) -> Callable[[Any], Any]:
    """Build ``main(context)`` for a function. ``main.router`` exposes the routes to tests."""
    _add_openapi(router)

    def main(context: Any) -> Any:
        started = time.perf_counter()
        response = handle(router, context, before)
        observe(context, router, response.status, (time.perf_counter() - started) * 1000)  # log line, metrics
        return response.send(context)

    main.router = router  # type: ignore[attr-defined]
    return main
