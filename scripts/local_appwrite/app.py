"""The local Appwrite: wires storage, credentials, events and the services into one HTTP server.

Reading order for a newcomer: this file, then ``http.py`` (requests and routing), ``auth.py``
(keys and JWTs), ``storage.py`` (SQLite), then one module per Appwrite service.
"""

from __future__ import annotations

import threading

from . import account, functions, health, storage_service, tablesdb, teams, users
from .auth import Caller, Credentials, authorize
from .cors import Cors
from .domains import FunctionDomains
from .errors import AppwriteError
from .events import EventHub
from .http import Dispatcher, HTTPServer, Request, Route, Router, serve_in_thread
from .stack_settings import StackSettings
from .storage import Storage

SERVICES = (health, tablesdb, users, teams, account, functions, storage_service)


class LocalAppwrite:
    """One running stack. ``start()`` serves ``/v1`` on the host and port of the endpoint."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.storage = Storage(settings.data_dir / "appwrite.sqlite3")
        self.credentials = Credentials(settings.project_id, settings.api_key, settings.data_dir / "jwt.secret")
        self.events = EventHub()
        self.router = Router()
        self.stopping = threading.Event()
        self._server: HTTPServer | None = None
        self.dispatcher = Dispatcher(self.router, self.authenticate, Cors(settings.web_platforms))
        self._background: list[threading.Thread] = []
        for service in SERVICES:
            service.register(self, self.router)
        self.dispatcher.domains = FunctionDomains(self).route

    @property
    def endpoint(self) -> str:
        return self.settings.endpoint

    def authenticate(self, request: Request, route: Route) -> Caller:
        project = request.headers.get("x-appwrite-project")
        # `appwrite client --endpoint` probes /health/version as the "console" project, as on any Appwrite
        console_probe = project == "console" and route.pattern == "/health/version"
        if project and project != self.settings.project_id and not console_probe:
            raise AppwriteError(404, "project_not_found", "Project with the requested ID could not be found.")
        caller = self.credentials.identify(request.headers)
        authorize(caller, route.scope, route.users)
        return caller

    def add_background(self, target, name: str) -> None:  # type: ignore[no-untyped-def]
        """Run ``target(stop_event)`` in a daemon thread while the stack runs (schedules, queues)."""
        thread = threading.Thread(target=target, args=(self.stopping,), name=name, daemon=True)
        self._background.append(thread)
        if self._server is not None:
            thread.start()

    def start(self) -> LocalAppwrite:
        self._server = HTTPServer((self.settings.host, self.settings.port), self.dispatcher, self.settings.verbose)
        serve_in_thread(self._server)
        for thread in self._background:
            if not thread.is_alive():
                thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for service in SERVICES:
            close = getattr(service, "close", None)
            if close is not None:
                close(self)

    def __enter__(self) -> LocalAppwrite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
