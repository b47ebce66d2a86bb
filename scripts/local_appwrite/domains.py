"""Function domains: ``<function-id>.functions.localhost[:port]`` reaches the function over plain HTTP.

On Appwrite a function answers on its own domain (``app/controllers/general.php``, ``router()``): any
method and path, the query string and the raw body go to the function as they came; the caller's headers
too, except Appwrite's own ``x-appwrite-*``, which the platform sets (trigger ``http``, an execution id,
an empty user id and JWT, the client IP, a fresh dynamic key). Only a function whose ``execute`` roles
include ``any`` (or ``guests``) may be reached so (401 ``function_execute_permission_missing``); an unknown
or disabled function is 404 ``function_not_found``. The answer is the function's own: status, headers and
body, plus ``x-appwrite-execution-id``. The execution is recorded like any other (trigger ``http``).

Here the routing is by the ``Host`` header alone, so no DNS is needed: ``httpx.get(stack.endpoint + "/x",
headers={"host": "mercado-atacado.functions.localhost"})``. The dispatcher asks ``route(request)`` first.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .errors import AppwriteError
from .http import Request, Response

if TYPE_CHECKING:
    from .app import LocalAppwrite

SUFFIX = ".functions.localhost"
HOST = re.compile(r"^([a-z0-9][a-z0-9._-]{0,35})" + re.escape(SUFFIX) + r"(?::\d{1,5})?$", re.IGNORECASE)
DOMAIN_ROLES = ("any", "guests")
# hop-by-hop or recomputed headers the stack writes itself
NOT_FORWARDED_BACK = frozenset({"content-length", "transfer-encoding", "connection"})


def function_id_of(host: str | None) -> str | None:
    found = HOST.match((host or "").strip())
    return found.group(1).lower() if found else None


class FunctionDomains:
    def __init__(self, stack: LocalAppwrite) -> None:
        self.stack = stack

    def route(self, request: Request) -> Response | None:
        """The function's answer when ``Host`` names a function domain; ``None`` for the stack's own API."""
        function_id = function_id_of(request.headers.get("host"))
        if function_id is None:
            return None
        try:
            return self._execute(function_id, request)
        except AppwriteError as error:
            return Response(error.code, error.body())

    def _execute(self, function_id: str, request: Request) -> Response:
        from .functions import Invocation

        service: Any = self.stack.functions  # type: ignore[attr-defined]
        fn = service.function(function_id)
        if fn is None or not fn.enabled:
            raise AppwriteError(404, "function_not_found", "Function with the requested ID could not be found.")
        if not any(role in DOMAIN_ROLES for role in fn.execute):
            raise AppwriteError(401, "function_execute_permission_missing",
                                'To execute function using domain, execute permissions must include "any" or "guests".')
        if not service.ready(fn):
            raise AppwriteError(400, "build_not_ready", "The function has not been built: build the functions first.")
        headers = {k: v for k, v in request.headers.items() if not k.lower().startswith("x-appwrite-")}
        path = request.path + (f"?{request.raw_query}" if request.raw_query else "")
        inv = Invocation(fn, "http", method=request.method, path=path, headers=headers, body=request.body,
                         client_ip=request.client_ip)
        doc = service.start(inv, wait=float(self.stack.settings.sync_timeout_seconds))
        answer = {h["name"].lower(): h["value"] for h in doc.get("responseHeaders") or []
                  if h["name"].lower() not in NOT_FORWARDED_BACK}
        answer["x-appwrite-execution-id"] = doc["$id"]
        content_type = answer.setdefault("content-type", "text/plain")
        body = (doc.get("responseBody") or "").encode("utf-8")
        return Response(int(doc.get("responseStatusCode") or 500), body, {**answer, "content-type": content_type})
