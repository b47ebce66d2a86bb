"""HTTP routes of the Functions service (the part of it the SDK's ``Functions`` class calls).

Functions come from ``appwrite.json`` and from the management routes (``management.py``: create,
update, deployments, variables, what the Appwrite CLI calls); executions are the real thing.
Two local-only routes, deliberate divergences from Appwrite, live under ``/local``:
``POST /local/functions/{id}/schedule`` runs one scheduled execution now (``invoke schedule``),
and ``GET /local/functions/workers`` lists the build-mode workers with their cold starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from ..common import as_bool, page
from ..errors import AppwriteError, bad_request
from ..http import Request, Response, Router
from ..runner.worker import WorkerPool
from . import documents, queries
from .access import caller_roles, check_execute, function_not_found
from .management import Management, register_management_routes
from .service import FunctionsService, Invocation

if TYPE_CHECKING:
    from ..app import LocalAppwrite

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"}
MAX_BODY = 10 * 1024 * 1024
EXECUTION_ATTRIBUTES = {
    "$id", "$createdAt", "$updatedAt", "trigger", "status", "responseStatusCode", "duration",
    "requestMethod", "requestPath", "deploymentId",
}
FUNCTION_ATTRIBUTES = {"$id", "name", "enabled", "runtime", "deploymentId", "schedule", "timeout"}


def register_routes(stack: LocalAppwrite, router: Router, service: FunctionsService) -> None:
    manage = Management(service, service.registry)
    register_management_routes(router, service, manage)

    def spec(function_id: str):
        fn = service.function(function_id)
        if fn is None:
            raise function_not_found()
        return fn

    def list_functions(request: Request) -> dict:
        docs = [manage.function_document(fn) for fn in service.functions().values()]
        search = request.param("search")
        if search:
            docs = [d for d in docs if search.lower() in (d["$id"] + " " + d["name"]).lower()]
        items, total = queries.apply(docs, request.param("queries"), FUNCTION_ATTRIBUTES)
        return page(items, total, "functions")

    def get_function(request: Request, functionId: str) -> dict:  # noqa: N803 - the route's name
        return manage.function_document(spec(functionId))

    def create_execution(request: Request, functionId: str) -> Response:  # noqa: N803
        fn = spec(functionId)
        caller = request.caller
        assert caller is not None
        check_execute(stack, caller, fn)
        inv = Invocation(
            fn, "http", method=_method(request), path=_path(request), headers=_headers(request),
            body=_body(request), user_id=caller.user_id or "", user_jwt=caller.jwt or "",
            client_ip=request.client_ip,
            permissions=[f'read("user:{caller.user_id}")'] if caller.user_id else [],
            parent_execution=caller.execution_id or "", parent_function=caller.function_id or "",
        )
        xasync = as_bool(request.param("async"))
        scheduled_at = _scheduled_at(request.param("scheduledAt"), xasync)
        if not service.ready(fn):
            raise AppwriteError(400, "build_not_ready", "The function has not been built: build the functions first.")
        if xasync:
            doc = service.start(inv, wait=None, scheduled_at=scheduled_at)
            return Response(202, documents.public_view(doc, caller.is_key))
        doc = service.start(inv, wait=stack.settings.sync_timeout_seconds)
        return Response(201, documents.public_view(doc, caller.is_key))

    def readable(request: Request):  # -> predicate over execution documents
        caller = request.caller
        if caller is None or caller.is_key:
            return lambda doc: True
        wanted = {f'read("{role}")' for role in caller_roles(stack, caller)}
        return lambda doc: bool(wanted.intersection(doc["$permissions"]))

    def list_executions(request: Request, functionId: str) -> dict:  # noqa: N803
        spec(functionId)
        docs = list(filter(readable(request), service.store.for_function(functionId)))
        items, total = queries.apply(docs, request.param("queries"), EXECUTION_ATTRIBUTES)
        if request.param("total") is False:
            total = 0
        is_key = bool(request.caller and request.caller.is_key)
        return page([documents.public_view(d, is_key) for d in items], total, "executions")

    def get_execution(request: Request, functionId: str, executionId: str) -> dict:  # noqa: N803
        spec(functionId)
        doc = service.store.get(functionId, executionId)
        if doc is None or not readable(request)(doc):
            raise AppwriteError(404, "execution_not_found", "Execution with the requested ID could not be found.")
        return documents.public_view(doc, bool(request.caller and request.caller.is_key))

    def delete_execution(request: Request, functionId: str, executionId: str) -> Response:  # noqa: N803
        spec(functionId)
        if not service.store.delete(functionId, executionId):
            raise AppwriteError(404, "execution_not_found", "Execution with the requested ID could not be found.")
        return Response(204, b"", {"content-type": "text/html; charset=UTF-8"})  # the SDK must not parse it

    def run_schedule_now(request: Request, functionId: str) -> Response:  # noqa: N803
        fn = spec(functionId)
        if not service.ready(fn):
            raise AppwriteError(400, "build_not_ready", "The function has not been built.")
        return Response(201, service.run_schedule(fn, wait=fn.timeout + 10.0))

    def workers(request: Request) -> dict:
        runner = service.runner
        return {"mode": service.mode, "workers": runner.info() if isinstance(runner, WorkerPool) else {},
                "deployed": service.deployed.info()}  # functions running an active deployment

    router.add("GET", "/functions", list_functions, scope="functions.read")
    router.add("GET", "/functions/{functionId}", get_function, scope="functions.read")
    router.add("POST", "/functions/{functionId}/executions", create_execution, scope=None)
    router.add("GET", "/functions/{functionId}/executions", list_executions, scope="executions.read", users=True)
    router.add(
        "GET", "/functions/{functionId}/executions/{executionId}", get_execution, scope="executions.read", users=True
    )
    router.add("DELETE", "/functions/{functionId}/executions/{executionId}", delete_execution, scope="executions.write")
    router.add("POST", "/local/functions/{functionId}/schedule", run_schedule_now, scope="executions.write")
    router.add("GET", "/local/functions/workers", workers, scope="functions.read")


def _method(request: Request) -> str:
    method = str(request.param("method") or "POST").upper()
    if method not in METHODS:
        raise bad_request(f'Invalid `method` param: Value must be one of ({", ".join(sorted(METHODS))})')
    return method


def _path(request: Request) -> str:
    path = str(request.param("path") or "/")
    return path if path.startswith("/") else "/" + path


def _headers(request: Request) -> dict[str, str]:
    headers = request.param("headers") or {}
    if isinstance(headers, str):  # the SDK may send an encoded object
        import json

        try:
            headers = json.loads(headers)
        except ValueError:
            raise bad_request("Invalid `headers` param: Value must be a valid object.") from None
    if not isinstance(headers, dict):
        raise bad_request("Invalid `headers` param: Value must be a valid object.")
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _body(request: Request) -> bytes:
    body = request.param("body")
    data = b"" if body is None else str(body).encode("utf-8")
    if len(data) > MAX_BODY:
        raise bad_request("Invalid `body` param: Value must be a valid string and no longer than 10485760 chars")
    return data


def _scheduled_at(value: Any, xasync: bool) -> datetime | None:
    if value in (None, ""):
        return None
    if not xasync:
        raise bad_request("Scheduled executions must run asynchronously. Set scheduledAt to a future date, or set async to true.", "function_execution_schedule_not_async")  # noqa: E501
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise bad_request("Invalid `scheduledAt` param: Value must be valid date in ISO 8601 format.") from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when < datetime.now(UTC) + timedelta(seconds=-1):
        raise bad_request("Invalid `scheduledAt` param: Value must be a date in the future.")
    return when
