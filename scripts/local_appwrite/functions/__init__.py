"""The Functions service: executions of the functions declared in ``appwrite.json``.

* ``service.py`` - starts executions (sync/async/scheduled), events and schedules feed it;
* ``routes.py`` - the REST routes the SDK's ``Functions`` calls, plus two ``/local`` routes;
* ``access.py`` - the ``execute`` roles; ``documents.py`` - Function/Execution JSON;
* ``store.py`` - executions in SQLite; ``queries.py`` - list queries.

The runners (in-process source mode, worker-per-function build mode) live in ``../runner``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import Router
from ..scheduler import Scheduler
from .routes import register_routes
from .service import FunctionsService, Invocation

if TYPE_CHECKING:
    from ..app import LocalAppwrite

__all__ = ["FunctionsService", "Invocation", "close", "register"]


def register(stack: LocalAppwrite, router: Router) -> None:
    service = FunctionsService(stack)
    stack.functions = service  # type: ignore[attr-defined]  # other services and tests reach it here
    register_routes(stack, router, service)
    stack.events.subscribe(service.on_event, service.hears)
    stack.scheduler = Scheduler(service.functions, service.run_schedule)  # type: ignore[attr-defined]
    if stack.settings.run_schedules:
        stack.add_background(stack.scheduler.loop, "function-schedules")  # type: ignore[attr-defined]


def close(stack: LocalAppwrite) -> None:
    service = getattr(stack, "functions", None)
    if service is not None:
        service.close()
