"""Routes that manage functions (what the Appwrite CLI and ``invoke bootstrap`` call).

Function create/update/delete, deployments (chunked upload, get, list, delete, activation) and
function variables, answering with the shapes of Appwrite's spec. Plus ``GET /proxy/rules``, a
console route the CLI calls after a deployment is ready (to print the function's domain): the
local stack has no domains, so it answers an empty list.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

from ..common import as_bool, page, resolve_id, unique_id
from ..errors import AppwriteError, bad_request
from ..http import Request, Response, Router
from . import documents, queries
from .deployments import (
    Builder,
    DeploymentStore,
    Uploads,
    deployment_missing,
    new_deployment,
    parse_multipart,
    parse_range,
)
from .registry import SETTABLE, FunctionRegistry, function_missing, public_variable

if TYPE_CHECKING:
    from ..runner.project import FunctionSpec
    from .service import FunctionsService

# Runtimes a function may declare (the server's _APP_FUNCTIONS_RUNTIMES); the stack runs Python only.
RUNTIMES = ("python-3.12", "python-3.11", "python-3.10", "python-3.9")
SPECIFICATIONS = ("s-0.5vcpu-512mb", "s-1vcpu-512mb", "s-1vcpu-1gb", "s-2vcpu-2gb", "s-2vcpu-4gb", "s-4vcpu-4gb",
                  "s-4vcpu-8gb", "s-8vcpu-4gb", "s-8vcpu-8gb")
MAX_TIMEOUT = 900  # _APP_FUNCTIONS_TIMEOUT default
DEPLOYMENT_ATTRIBUTES = {"$id", "$createdAt", "$updatedAt", "status", "type", "sourceSize", "buildSize",
                         "totalSize", "buildDuration", "activate", "entrypoint"}
VARIABLE_ATTRIBUTES = {"$id", "key", "secret", "resourceType", "resourceId"}
HIDDEN_DEPLOYMENT_FIELDS = ("commands",)


class Management:
    """Function/deployment/variable state, shared by the routes and the functions service."""

    def __init__(self, service: FunctionsService, registry: FunctionRegistry) -> None:
        self.service = service
        self.registry = registry
        self.store = DeploymentStore(service.stack.storage)
        self.uploads = Uploads()
        self.builder = Builder(self.store, self._built)

    def _built(self, function_id: str, doc: dict[str, Any]) -> None:
        if doc.get("activate"):
            self.registry.set_deployment(function_id, doc["$id"])

    def function_document(self, fn: FunctionSpec) -> dict[str, Any]:
        doc = documents.function_document(fn, self.service.mode)
        stored = self.registry.stored(fn.id)
        if stored is None:
            return doc
        deployments = self.store.for_function(fn.id)
        active = stored.get("deploymentId") or ""
        active_doc = next((d for d in deployments if d["$id"] == active), None)
        latest = deployments[0] if deployments else None
        doc.update({
            "$createdAt": stored["$createdAt"], "$updatedAt": stored["$updatedAt"],
            "live": bool(active), "deploymentId": active,
            "deploymentCreatedAt": active_doc["$createdAt"] if active_doc else "",
            "latestDeploymentId": latest["$id"] if latest else "",
            "latestDeploymentCreatedAt": latest["$createdAt"] if latest else "",
            "latestDeploymentStatus": latest["status"] if latest else "",
            "vars": [public_variable(v) for v in self.registry.variables(fn.id)],
        })
        return doc


def register_management_routes(router: Router, service: FunctionsService, manage: Management) -> None:
    registry = manage.registry

    def fn_or_404(function_id: str) -> FunctionSpec:
        fn = registry.get(function_id)
        if fn is None:
            raise function_missing()
        return fn

    # -- functions ----------------------------------------------------------------------------
    def create_function(request: Request) -> Response:
        function_id = resolve_id(request.require("functionId"), "functionId")
        values = _function_values(request, creating=True)
        registry.create(function_id, values)
        return Response(201, manage.function_document(fn_or_404(function_id)))

    def update_function(request: Request, functionId: str) -> dict:  # noqa: N803 - the route's name
        fn_or_404(functionId)
        values = _function_values(request, creating=False)
        registry.update(functionId, values)
        return manage.function_document(fn_or_404(functionId))

    def delete_function(request: Request, functionId: str) -> Response:  # noqa: N803
        fn_or_404(functionId)
        registry.delete(functionId)
        manage.store.delete_function(functionId)
        shutil.rmtree(registry.deployments_root / functionId, ignore_errors=True)
        return _no_content()

    # -- deployments --------------------------------------------------------------------------
    def create_deployment(request: Request, functionId: str) -> Response:  # noqa: N803
        fn = fn_or_404(functionId)
        fields, chunk = parse_multipart(request.headers.get("content-type", ""), request.body)
        if chunk is None:
            raise bad_request('Param "code" is not optional.')
        if "activate" not in fields:
            raise bad_request('Param "activate" is not optional.')
        start, _end, total = parse_range(request.headers.get("content-range"), len(chunk))
        deployment_id = request.headers.get("x-appwrite-id") or ""
        entrypoint = fields.get("entrypoint") or fn.entrypoint
        commands = fields.get("commands") if "commands" in fields else fn.commands
        if deployment_id:
            doc = manage.store.get(functionId, deployment_id)
            if doc is None:
                raise deployment_missing()
            if doc["status"] != "processing":
                raise bad_request("This deployment's upload is already complete.")
            if int(doc["sourceSize"]) != total:
                raise bad_request("Invalid content-range header: the total size differs from the first chunk's.")
        else:
            if start != 0:
                raise bad_request("The first chunk must start at byte 0 (send x-appwrite-id for the next ones).")
            deployment_id = unique_id()
            doc = new_deployment(deployment_id, functionId, entrypoint, as_bool(fields["activate"]), total)
            doc["commands"] = commands or ""
            manage.store.insert(doc)
        folder = registry.deployments_root / functionId / deployment_id
        uploaded, chunks_total, complete = manage.uploads.write(folder, deployment_id, start, chunk, total)
        changes: dict[str, Any] = {"chunksUploaded": uploaded, "chunksTotal": chunks_total}
        if complete:
            changes["status"] = "waiting"
        doc = manage.store.update(functionId, deployment_id, **changes)
        if complete:
            manage.builder.start(functionId, deployment_id, folder, doc["entrypoint"], doc.get("commands", ""),
                                 service.environment(fn))
        return Response(202, _public_deployment(doc))

    def list_deployments(request: Request, functionId: str) -> dict:  # noqa: N803
        fn_or_404(functionId)
        docs = [_public_deployment(d) for d in manage.store.for_function(functionId)]
        search = request.param("search")
        if search:
            docs = [d for d in docs if str(search).lower() in (d["$id"] + " " + d["status"]).lower()]
        items, total = queries.apply(docs, request.param("queries"), DEPLOYMENT_ATTRIBUTES)
        return page(items, total, "deployments")

    def get_deployment(request: Request, functionId: str, deploymentId: str) -> dict:  # noqa: N803
        fn_or_404(functionId)
        doc = manage.store.get(functionId, deploymentId)
        if doc is None:
            raise deployment_missing()
        return _public_deployment(doc)

    def delete_deployment(request: Request, functionId: str, deploymentId: str) -> Response:  # noqa: N803
        fn_or_404(functionId)
        if manage.store.get(functionId, deploymentId) is None:
            raise deployment_missing()
        if registry.active_deployment(functionId) == deploymentId:
            registry.set_deployment(functionId, "")
        manage.store.delete(functionId, deploymentId)
        shutil.rmtree(registry.deployments_root / functionId / deploymentId, ignore_errors=True)
        return _no_content()

    def activate_deployment(request: Request, functionId: str) -> dict:  # noqa: N803
        fn_or_404(functionId)
        deployment_id = str(request.require("deploymentId"))
        doc = manage.store.get(functionId, deployment_id)
        if doc is None:
            raise deployment_missing()
        if doc["status"] != "ready":
            raise AppwriteError(400, "build_not_ready", "Build not ready: the deployment has not finished building.")
        registry.set_deployment(functionId, deployment_id)
        return manage.function_document(fn_or_404(functionId))

    # -- variables ----------------------------------------------------------------------------
    def create_variable(request: Request, functionId: str) -> Response:  # noqa: N803
        fn_or_404(functionId)
        variable_id = resolve_id(request.param("variableId"), "variableId")
        doc = registry.save_variable(functionId, variable_id, str(request.require("key")),
                                     _string(request.param("value"), "value"),
                                     as_bool(request.param("secret")), creating=True)
        return Response(201, public_variable(doc))

    def list_variables(request: Request, functionId: str) -> dict:  # noqa: N803
        fn_or_404(functionId)
        docs = [public_variable(v) for v in registry.variables(functionId)]
        items, total = queries.apply(docs, request.param("queries"), VARIABLE_ATTRIBUTES)
        return page(items, total, "variables")

    def get_variable(request: Request, functionId: str, variableId: str) -> dict:  # noqa: N803
        fn_or_404(functionId)
        return public_variable(registry.variable(functionId, variableId))

    def update_variable(request: Request, functionId: str, variableId: str) -> dict:  # noqa: N803
        fn_or_404(functionId)
        current = registry.variable(functionId, variableId)
        value = request.param("value")
        doc = registry.save_variable(
            functionId, variableId, str(request.param("key") or current["key"]),
            current["value"] if value is None else _string(value, "value"),
            as_bool(request.param("secret"), current["secret"]), creating=False,
        )
        return public_variable(doc)

    def delete_variable(request: Request, functionId: str, variableId: str) -> Response:  # noqa: N803
        fn_or_404(functionId)
        registry.delete_variable(functionId, variableId)
        return _no_content()

    def list_proxy_rules(request: Request) -> dict:
        return {"total": 0, "rules": []}

    router.add("POST", "/functions", create_function, scope="functions.write")
    router.add("PUT", "/functions/{functionId}", update_function, scope="functions.write")
    router.add("DELETE", "/functions/{functionId}", delete_function, scope="functions.write")
    router.add("PATCH", "/functions/{functionId}/deployment", activate_deployment, scope="functions.write")
    router.add("POST", "/functions/{functionId}/deployments", create_deployment, scope="functions.write")
    router.add("GET", "/functions/{functionId}/deployments", list_deployments, scope="functions.read")
    router.add("GET", "/functions/{functionId}/deployments/{deploymentId}", get_deployment, scope="functions.read")
    router.add("DELETE", "/functions/{functionId}/deployments/{deploymentId}", delete_deployment,
               scope="functions.write")
    router.add("POST", "/functions/{functionId}/variables", create_variable, scope="functions.write")
    router.add("GET", "/functions/{functionId}/variables", list_variables, scope="functions.read")
    router.add("GET", "/functions/{functionId}/variables/{variableId}", get_variable, scope="functions.read")
    router.add("PUT", "/functions/{functionId}/variables/{variableId}", update_variable, scope="functions.write")
    router.add("DELETE", "/functions/{functionId}/variables/{variableId}", delete_variable, scope="functions.write")
    router.add("GET", "/proxy/rules", list_proxy_rules, scope="rules.read")


def _function_values(request: Request, creating: bool) -> dict[str, Any]:
    """The settable attributes sent, validated like Appwrite's params; 400 on the first bad one."""
    values: dict[str, Any] = {}
    name = request.require("name")
    if not isinstance(name, str) or len(name) > 128:
        raise bad_request("Invalid `name` param: Value must be a valid string and at most 128 chars")
    values["name"] = name
    runtime = request.param("runtime")
    if creating and runtime is None:
        raise bad_request('Param "runtime" is not optional.')
    if runtime is not None:
        if runtime not in RUNTIMES:
            raise bad_request(f"Invalid `runtime` param: Value must be one of ({', '.join(RUNTIMES)})")
        values["runtime"] = runtime
    for key in ("execute", "events", "scopes"):
        value = request.param(key)
        if value is None:
            continue
        if isinstance(value, str):
            value = _json_list(value, key)
        if not isinstance(value, list) or len(value) > 100 or not all(isinstance(v, str) for v in value):
            raise bad_request(f"Invalid `{key}` param: Value must be an array of at most 100 strings")
        values[key] = value
    for key in ("schedule", "entrypoint", "commands"):
        value = request.param(key)
        if value is not None:
            values[key] = _string(value, key)
    timeout = request.param("timeout")
    if timeout is not None:
        try:
            timeout = int(timeout)
        except (TypeError, ValueError):
            raise bad_request("Invalid `timeout` param: Value must be a valid integer") from None
        if not 1 <= timeout <= MAX_TIMEOUT:
            raise bad_request(f"Invalid `timeout` param: Value must be a valid range between 1 and {MAX_TIMEOUT}")
        values["timeout"] = timeout
    for key in ("enabled", "logging"):
        if request.param(key) is not None:
            values[key] = as_bool(request.param(key))
    specification = request.param("specification")
    if specification is not None:
        if specification not in SPECIFICATIONS:
            raise bad_request(f"Invalid `specification` param: Value must be one of ({', '.join(SPECIFICATIONS)})")
        values["specification"] = specification
    return {key: value for key, value in values.items() if key in SETTABLE}


def _json_list(value: str, key: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(f"Invalid `{key}` param: Value must be an array") from None


def _string(value: Any, key: str) -> str:
    if not isinstance(value, str):
        raise bad_request(f"Invalid `{key}` param: Value must be a valid string")
    return value


def _public_deployment(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in HIDDEN_DEPLOYMENT_FIELDS}


def _no_content() -> Response:
    return Response(204, b"", {"content-type": "text/html; charset=UTF-8"})  # the SDK must not parse it
