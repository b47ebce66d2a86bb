"""``RouteDoc``: what a route tells the OpenAPI generator that the generator cannot read from its handler.

Everything is optional. ``bigtech.openapi`` already infers the request body and query models (the
``request.model(X)`` / ``request.query_model(X)`` calls in the handler), the success status
(``created`` → 201, ``no_content`` → 204, ``text_response`` → text) and the error codes the handler and
the helpers it calls raise. A route adds a ``RouteDoc`` only for the rest::

    router.add("GET", "/wallet", wallet.read, action="wallet.read",
               doc=RouteDoc(summary="The caller's wallet", errors=("member_not_found",)))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RouteDoc:
    summary: str = ""
    description: str = ""
    # A pydantic model or a JSON Schema dict for the success body (default: any JSON object).
    response: Any = None
    status: int | None = None  # the success status when inference cannot see it (e.g. a 202)
    # The success body's media type(s), when not JSON or not only JSON: "text/csv", ("application/json", "text/csv")
    content_type: str | tuple[str, ...] | None = None
    body: Any = None  # the request body model when the handler validates it somewhere inference cannot see
    query: Any = None  # the query model, likewise
    # Extra query parameters a handler reads by hand: {name: JSON Schema}.
    query_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: tuple[str, ...] = ()  # request headers it reads: "idempotency-key", …
    errors: tuple[str, ...] = ()  # error codes inference misses (raised deep in shared code)
    security: tuple[str, ...] | None = None  # override the scheme chosen from the action
    example: Any = None  # an example request body
    response_example: Any = None
    tags: tuple[str, ...] = ()


__all__ = ["RouteDoc"]
