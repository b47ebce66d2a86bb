"""``GET /v1/health`` and ``/v1/health/version``: is the stack up, and which Appwrite it imitates."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import APPWRITE_VERSION
from .http import Request, Router

if TYPE_CHECKING:
    from .app import LocalAppwrite


def register(stack: LocalAppwrite, router: Router) -> None:
    def health(request: Request) -> dict:
        return {"name": "http", "ping": 0, "status": "pass"}

    def version(request: Request) -> dict:
        return {"version": APPWRITE_VERSION}

    router.add("GET", "/health", health, scope="health.read")
    router.add("GET", "/health/version", version, scope=None)
