"""``GET /v1/health``: is the stack up; ``GET /v1/health/version``: the Appwrite version it emulates.

``appwrite client --endpoint`` probes ``/health/version`` (public, no project needed) and refuses an
endpoint that does not answer it with a ``version``.
"""

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
