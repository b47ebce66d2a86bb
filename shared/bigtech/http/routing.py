"""``Router``: maps ``method + path`` to a handler, and every route to an ``action`` string.

The action (``"orders.read"``) is what the permission matrix grants per role, so a route without one
cannot be declared; ``Router.routes`` lists every route with its action for the meta-test that checks
the matrix covers them all. Paths use ``{name}`` placeholders for one segment each; a static segment
beats a placeholder (``/settings`` wins over ``/{tenant_id}``). Trailing slashes are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import MethodNotAllowed, NotFound
from .route_doc import RouteDoc

Handler = Callable[..., Any]

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
ACTION_PATTERN = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$")
_PARAM = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


def split_path(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def normalise_path(path: str) -> str:
    return "/" + "/".join(split_path(path))


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    action: str
    handler: Handler
    doc: RouteDoc | None = None  # optional OpenAPI metadata (``bigtech.openapi``)

    @property
    def segments(self) -> list[str]:
        return split_path(self.path)

    @property
    def specificity(self) -> tuple[int, ...]:
        """Lower sorts first: static segments (0) before placeholders (1), left to right."""
        return tuple(1 if _PARAM.match(segment) else 0 for segment in self.segments)

    @property
    def shape(self) -> tuple[str, ...]:
        """The path with placeholders blanked: two routes with one shape and method are duplicates."""
        return tuple("{}" if _PARAM.match(segment) else segment for segment in self.segments)

    def match(self, segments: list[str]) -> dict[str, str] | None:
        """Path parameters if ``segments`` fit this route's pattern, else ``None``."""
        own = self.segments
        if len(own) != len(segments):
            return None
        params: dict[str, str] = {}
        for pattern, value in zip(own, segments, strict=True):
            placeholder = _PARAM.match(pattern)
            if placeholder:
                params[placeholder.group(1)] = value
            elif pattern != value:
                return None
        return params


class Router:
    """Routes of one function. Declare with ``@router.route(method, path, action=...)``."""

    def __init__(self) -> None:
        self._routes: list[Route] = []

    @property
    def routes(self) -> list[Route]:
        return list(self._routes)

    def actions(self) -> list[tuple[str, str, str]]:
        """``(method, path, action)`` of every route, for permission meta-tests and docs."""
        return [(route.method, route.path, route.action) for route in self._routes]

    def add(self, method: str, path: str, handler: Handler, *, action: str, doc: RouteDoc | None = None) -> Route:
        method = method.upper()
        if method not in METHODS:
            raise ValueError(f"Unknown HTTP method {method!r}.")
        if not isinstance(action, str) or not ACTION_PATTERN.match(action):
            raise ValueError(f"Route {method} {path}: action must look like 'resource.verb', got {action!r}.")
        if not path.startswith("/"):
            raise ValueError(f"Route path must start with '/': {path!r}.")
        for segment in split_path(path):
            if ("{" in segment or "}" in segment) and not _PARAM.match(segment):
                raise ValueError(f"Route {path!r}: a placeholder must be a whole segment like '{{order_id}}'.")
        route = Route(method, normalise_path(path), action, handler, doc)
        for existing in self._routes:
            if existing.method == method and existing.shape == route.shape:
                raise ValueError(f"Duplicate route {method} {route.path} (already {existing.path}).")
        self._routes.append(route)
        return route

    def route(self, method: str, path: str, *, action: str,
              doc: RouteDoc | None = None) -> Callable[[Handler], Handler]:
        """Decorator form of ``add``; returns the handler unchanged so it stays unit-testable."""

        def register(handler: Handler) -> Handler:
            self.add(method, path, handler, action=action, doc=doc)
            return handler

        return register

    def include(self, other: Router, prefix: str = "") -> None:
        """Mount another router's routes (e.g. one per handler module) under ``prefix``."""
        for route in other.routes:
            self.add(route.method, normalise_path(prefix + route.path), route.handler, action=route.action,
                     doc=route.doc)

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for ``method path`` and its parameters; 404 ``route_not_found`` or 405 otherwise."""
        segments = split_path(path)
        candidates = []
        for route in self._routes:
            params = route.match(segments)
            if params is not None:
                candidates.append((route, params))
        if not candidates:
            raise NotFound(f"No route for {method.upper()} {normalise_path(path)}.", code="route_not_found")
        same_method = [(r, p) for r, p in candidates if r.method == method.upper()]
        if not same_method:
            allowed = sorted({route.method for route, _ in candidates})
            raise MethodNotAllowed(f"{method.upper()} is not allowed on {normalise_path(path)}.", allowed=allowed)
        return min(same_method, key=lambda item: item[0].specificity)
