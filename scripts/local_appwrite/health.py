"""``GET /v1/health``: is the stack up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .http import Request, Router

if TYPE_CHECKING:
    from .app import LocalAppwrite


def register(stack: LocalAppwrite, router: Router) -> None:
    def health(request: Request) -> dict:
        return {"name": "http", "ping": 0, "status": "pass"}

    router.add("GET", "/health", health, scope="health.read")
