"""``serve(router)`` → the function's ``main(context)``: route, run the handler, map every error.

Error mapping, in one place so every function answers alike:

- ``BigtechError`` → its status and ``{"error": {"code", "message", "details"}}``;
- pydantic ``ValidationError`` escaping a handler → 422 ``validation_failed`` with field details;
- unknown path → 404 ``route_not_found``; known path, wrong method → 405 with an ``allow`` header;
- anything else → the traceback goes to ``context.error`` (masked) and the caller gets a bare
  500 ``internal_error``: internals never leak into a response.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from ..errors import BigtechError, MethodNotAllowed, TooManyRequests
from ..log import FunctionLogger
from .observe import observe
from .request import Request, unprocessable
from .responses import Response, json_response, to_response
from .routing import Route, Router

# Runs after routing and before the handler (e.g. authentication, the permission check on
# ``route.action``); raise a BigtechError to refuse the request.
BeforeHook = Callable[[Request, Route], None]

INTERNAL_ERROR = {"error": {"code": "internal_error", "message": "Internal error.", "details": None}}


def error_response(error: BigtechError) -> Response:
    headers: dict[str, str] = {}
    if isinstance(error, MethodNotAllowed) and error.allowed:
        headers["allow"] = ", ".join(error.allowed)
    if isinstance(error, TooManyRequests) and error.retry_after is not None:
        headers["retry-after"] = str(error.retry_after)
    return json_response(error.to_body(), error.status, headers)


def handle(router: Router, context: Any, before: Sequence[BeforeHook] = ()) -> Response:
    """Route and run one request, turning every outcome into a ``Response``."""
    try:
        request = Request(context)
        route, params = router.match(request.method, request.path)
        request.path_params = params
        request.route = route
        for hook in before:
            hook(request, route)
        return to_response(route.handler(request, **params))
    except BigtechError as error:
        return error_response(error)
    except ValidationError as error:
        return error_response(unprocessable(error))
    except Exception as error:
        FunctionLogger(context).exception("Unhandled error", error)
        return json_response(INTERNAL_ERROR, 500)


def serve(router: Router, *, before: Sequence[BeforeHook] = ()) -> Callable[[Any], Any]:
    """Build ``main(context)`` for a function. ``main.router`` exposes the routes to tests."""

    def main(context: Any) -> Any:
        started = time.perf_counter()
        response = handle(router, context, before)
        observe(context, router, response.status, (time.perf_counter() - started) * 1000)  # log line, metrics
        return response.send(context)

    main.router = router  # type: ignore[attr-defined]
    return main
