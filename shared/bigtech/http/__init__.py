"""HTTP for Bigtech functions: a ``Router`` of ``(method, path, action)`` routes, a ``Request`` over
``context.req``, ``Response`` helpers and ``serve(router)`` which builds the function's ``main``.

A function's ``main.py`` reads as a table of contents::

    router = Router()
    router.route("GET", "/orders/{order_id}", action="orders.read")(orders.read)
    main = serve(router)

A route may add OpenAPI metadata the generator cannot infer: ``router.add(..., doc=RouteDoc(status=201))``
(docs/openapi.md); ``serve`` adds ``GET /openapi.json`` to every router.
"""

from .app import serve
from .request import Request
from .responses import Response, created, json_response, no_content, text_response
from .route_doc import RouteDoc
from .routing import Route, Router

__all__ = [
    "Request",
    "Response",
    "Route",
    "RouteDoc",
    "Router",
    "created",
    "json_response",
    "no_content",
    "serve",
    "text_response",
]
