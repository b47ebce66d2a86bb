"""One function's OpenAPI 3.1 document, built from its ``Router`` (routes, actions, ``RouteDoc``) and the
pydantic models its handlers validate with (``inference``). See docs/openapi.md.

Paths are the function's own (what ``createExecution`` takes as ``path``); every operation carries
``x-appwrite-execution``, the recipe for calling it through Appwrite's executions API. The document is
a pure function of the code: the same router gives the same JSON, byte for byte, at build time
(``invoke openapi``) and at run time (``GET /openapi.json``).
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import bigtech

from .. import error_codes, permissions
from ..http.limits import PATH_PARAM_PATTERN
from ..http.routing import Route, Router
from . import security
from .inference import Inferred, infer

OPENAPI_VERSION = "3.1.0"
REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")

# The error envelope every 4xx/5xx carries (bigtech.errors.BigtechError.to_body; docs/api-style.md):
# ``details`` is always a list, each item a message, maybe naming a field and a machine-readable value.
SHARED_SCHEMAS: dict[str, Any] = {
    "ErrorDetail": {
        "type": "object",
        "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "value": {}},
        "required": ["message"],
    },
    "Error": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Stable, machine-readable: see x-error-codes / docs/errors.md."},
            "message": {"type": "string", "description": "For developers; may change. UIs show message_pt."},
            "details": {"type": "array", "items": {"$ref": "#/components/schemas/ErrorDetail"},
                        "description": "What was wrong, field by field ([{field?, message, value?}]); may be empty."},
        },
        "required": ["code", "message", "details"],
    },
    "ErrorEnvelope": {
        "type": "object",
        "properties": {"error": {"$ref": "#/components/schemas/Error"}},
        "required": ["error"],
    },
}
SHARED_NAMES = frozenset(SHARED_SCHEMAS)
# A success body no model describes: any JSON object (a typed client sees {[key: string]: unknown}).
ANY_OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}

# Codes the request pipeline itself (bigtech.http: limits, parsing, upstream mapping) may answer.
_QUERY_ERRORS = {"invalid_query": 400}
_PATH_ERRORS = {"not_found": 404}
_BODY_ERRORS = {"invalid_json": 400, "invalid_body": 400, "payload_too_large": 413}
_MODEL_ERRORS = {"validation_failed": 422}
_UPSTREAM_ERRORS = {"invalid_request": 400, "upstream_error": 502}
_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content"}


def operation_id(function_id: str, route: Route) -> str:
    words = [function_id, route.method.lower()]
    for segment in route.segments:
        name = _PARAM.fullmatch(segment)
        words += ["by", name.group(1)] if name else [segment]
    return re.sub(r"[^A-Za-z0-9]+", "_", "_".join(words)).strip("_")


def _model_of(value: Any) -> type[BaseModel] | None:
    return value if isinstance(value, type) and issubclass(value, BaseModel) else None


class _Schemas:
    """The function's pydantic models, rendered once together (shared $defs, unique names)."""

    def __init__(self, models: list[type[BaseModel]]) -> None:
        unique = list(dict.fromkeys(models))
        if unique:
            keys, top = models_json_schema([(m, "validation") for m in unique], ref_template=REF)
        else:
            keys, top = {}, {}
        self.components: dict[str, Any] = dict(sorted((top.get("$defs") or {}).items()))
        self._refs = {model: keys[(model, "validation")] for model in unique}

    def ref(self, model: type[BaseModel]) -> dict[str, Any]:
        return dict(self._refs[model])

    def resolved(self, model: type[BaseModel]) -> dict[str, Any]:
        ref = self._refs[model].get("$ref", "")
        return self.components.get(ref.rsplit("/", 1)[-1], self._refs[model])


def _parameters(route: Route, seen: Inferred, schemas: _Schemas, sec: list[Any]) -> list[dict[str, Any]]:
    doc = route.doc
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True,
         "schema": {"type": "string", "pattern": PATH_PARAM_PATTERN.pattern}}
        for name in _PARAM.findall(route.path)
    ]
    query_model = _model_of(doc.query if doc and doc.query is not None else seen.query)
    if query_model is not None:
        schema = schemas.resolved(query_model)
        required = set(schema.get("required") or [])
        for name, prop in (schema.get("properties") or {}).items():
            entry: dict[str, Any] = {"name": name, "in": "query", "required": name in required, "schema": prop}
            if prop.get("description"):
                entry["description"] = prop["description"]
            params.append(entry)
    by_hand = {name: ({"type": "array", "items": {"type": "string"}} if repeated else {"type": "string"})
               for name, repeated in seen.query_params.items()}
    by_hand.update(doc.query_params if doc else {})
    known = {p["name"] for p in params if p["in"] == "query"}
    for name, prop in sorted(by_hand.items()):
        if name not in known:
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    headers = set(seen.headers) | set(doc.headers if doc else ())
    if security.tenant_scoped(route.action, sec):
        headers.add("x-tenant-id")
    headers -= {"x-api-key", "x-metrics-token"}  # carried by the security scheme
    for name in sorted(headers):
        params.append({"name": name, "in": "header", "required": _header_required(name, seen),
                       "schema": {"type": "string", "maxLength": 255}, "description": _HEADER_TEXT.get(name, "")})
    return params


_HEADER_TEXT = {
    "x-tenant-id": "The tenant to act in (a member of several, or a platform admin); default: the caller's.",
    "idempotency-key": "Makes a retry safe: the same key answers the first result and changes nothing more.",
}


def _header_required(name: str, seen: Inferred) -> bool:
    return name == "idempotency-key" and "idempotency_key_required" in seen.errors


def _error_responses(codes: dict[str, int]) -> dict[str, Any]:
    by_status: dict[int, list[str]] = {}
    for code, status in codes.items():
        by_status.setdefault(status, []).append(code)
    responses = {}
    for status in sorted(by_status):
        listed = sorted(by_status[status])
        lines = [f"- `{code}`: {entry.meaning}" if (entry := error_codes.lookup(code)) else f"- `{code}`"
                 for code in listed]
        responses[str(status)] = {
            "description": "\n".join(lines),
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
            "x-error-codes": listed,
        }
    return responses


def _success(route: Route, seen: Inferred, schemas: _Schemas) -> tuple[str, dict[str, Any]]:
    doc = route.doc
    status = (doc.status if doc and doc.status else None) or seen.status or 200
    answer: dict[str, Any] = {"description": (doc.summary if doc and doc.summary else _STATUS_TEXT.get(status, "OK"))}
    if status == 204:
        return "204", answer
    declared = doc.content_type if doc and doc.content_type else None
    kinds = [declared] if isinstance(declared, str) else list(declared or ())
    if not kinds:  # inferred: JSON, plus whatever else the handler may send (a CSV or PDF format)
        kinds = ["application/json", *seen.content_types]
    response = doc.response if doc else None
    model = _model_of(response)
    content: dict[str, Any] = {}
    for kind in kinds:
        if kind.endswith("json"):
            schema = schemas.ref(model) if model else (dict(response) if isinstance(response, dict) else ANY_OBJECT)
            media: dict[str, Any] = {"schema": schema}
            if doc and doc.response_example is not None:
                media["example"] = doc.response_example
        else:
            binary = not kind.startswith("text/")
            media = {"schema": {"type": "string", **({"format": "binary"} if binary else {})}}
        content[kind] = media
    answer["content"] = content
    return str(status), answer


def _body(route: Route, seen: Inferred, schemas: _Schemas) -> dict[str, Any] | None:
    doc = route.doc
    model = _model_of(doc.body if doc and doc.body is not None else seen.body)
    if model is None:
        return None
    media: dict[str, Any] = {"schema": schemas.ref(model)}
    if doc and doc.example is not None:
        media["example"] = doc.example
    required = bool(schemas.resolved(model).get("required"))
    return {"required": required, "content": {"application/json": media}}


def _errors(route: Route, seen: Inferred, sec: list[Any], has_body: bool, has_model: bool) -> dict[str, int]:
    codes: dict[str, int] = dict(_QUERY_ERRORS)
    if _PARAM.search(route.path):
        codes.update(_PATH_ERRORS)
    if route.method in ("POST", "PUT", "PATCH"):
        codes.update(_BODY_ERRORS)
    if has_model:
        codes.update(_MODEL_ERRORS)
    if sec:  # anything behind a gate reads Appwrite
        codes.update(_UPSTREAM_ERRORS)
    codes.update(security.gate_errors(route.action, sec))
    codes.update(seen.errors)
    for code in route.doc.errors if route.doc else ():
        entry = error_codes.lookup(code)
        codes[code] = entry.statuses[0] if entry else 400
    codes.pop("internal_error", None)  # never documented as an answer: a 500 is a bug
    return dict(sorted(codes.items()))


def _execution(function_id: str, route: Route, params: list[dict[str, Any]], body: bool) -> dict[str, Any]:
    """How a frontend calls this through ``functions.createExecution``."""
    query = [p["name"] for p in params if p["in"] == "query"]
    headers = [p["name"] for p in params if p["in"] == "header"]
    return {
        "functionId": function_id,
        "method": route.method,
        "path": route.path,
        "pathParameters": _PARAM.findall(route.path),
        "query": query,
        "headers": headers,
        "body": "json" if body else None,
        "async": False,
    }


def _operation(function_id: str, route: Route, schemas: _Schemas, seen: Inferred) -> dict[str, Any]:
    doc = route.doc
    declared: list[Any] = list(doc.security) if doc and doc.security is not None \
        else list(security.requirement(route.action))
    sec: list[Any] = [{name: []} for name in declared] if declared and isinstance(declared[0], str) else declared
    params = _parameters(route, seen, schemas, sec)
    body = _body(route, seen, schemas)
    query_model = _model_of(doc.query if doc and doc.query is not None else seen.query)
    codes = _errors(route, seen, sec, body is not None, body is not None or query_model is not None)
    status, success = _success(route, seen, schemas)
    operation: dict[str, Any] = {
        "operationId": operation_id(function_id, route),
        "summary": (doc.summary if doc and doc.summary else _summary(route)),
        "tags": [function_id, *(doc.tags if doc else ())],
        "security": sec,
    }
    description = _description(route, doc.description if doc else "")
    if description:
        operation["description"] = description
    if params:
        operation["parameters"] = params
    if body is not None:
        operation["requestBody"] = body
    operation["responses"] = {status: success, **_error_responses(codes)}
    operation["x-bigtech-action"] = route.action
    operation["x-appwrite-execution"] = _execution(function_id, route, params, body is not None)
    return operation


def _summary(route: Route) -> str:
    return f"{route.action}: {route.method} {route.path}"


def _handler_text(route: Route) -> str:
    """The first paragraph of the handler's docstring, without reST markup."""
    text = (getattr(route.handler, "__doc__", None) or "").strip().split("\n\n", 1)[0]
    return " ".join(text.replace("``", "`").split())


def _description(route: Route, extra: str) -> str:
    rule = permissions.rule(route.action)
    who = ""
    if rule is not None and rule.scope == "tenant":
        who = "Roles: " + ", ".join(r for r in permissions.TENANT_ROLES if r in rule.roles) + " (and platform admins)."
    elif rule is not None and rule.scope == "platform":
        who = "Platform admins only." if route.action not in security.KEY_ONLY else "Called with a key, never a user."
    return "\n\n".join(part for part in (extra.strip(), _handler_text(route), who) if part)


def document_routes(router: Router) -> list[Route]:
    return sorted(router.routes, key=lambda r: (r.path, r.method))


def function_document(router: Router, function_id: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one function's router."""
    routes = document_routes(router)
    seen = {id(route): infer(route.handler) for route in routes}
    models: list[type[BaseModel]] = []
    for route in routes:
        found = seen[id(route)]
        doc = route.doc
        for candidate in (doc.body if doc else None, doc.query if doc else None, doc.response if doc else None,
                          found.body, found.query):
            model = _model_of(candidate)
            if model is not None:
                models.append(model)
    schemas = _Schemas(models)
    paths: dict[str, Any] = {}
    used: set[str] = set()
    for route in routes:
        operation = _operation(function_id, route, schemas, seen[id(route)])
        paths.setdefault(route.path, {})[route.method.lower()] = operation
        for answer in operation["responses"].values():
            used.update(answer.get("x-error-codes", []))
    schemes_used = sorted({name for path in paths.values() for op in path.values()
                           for alternative in op["security"] for name in alternative})
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": f"Bigtech · {function_id}",
            "version": bigtech.__version__,
            "description": f"The `{function_id}` Appwrite function. Call each operation through Appwrite's "
                           "executions API as its `x-appwrite-execution` says (docs/openapi.md).",
        },
        "servers": [{"url": "/", "description": "Execution paths: send them as createExecution's path."}],
        "tags": [{"name": function_id}],
        "paths": paths,
        "components": {
            "schemas": {**SHARED_SCHEMAS, **schemas.components},
            "securitySchemes": {name: security.SCHEMES[name] for name in schemes_used},
        },
        "x-error-codes": [entry for entry in error_codes.catalogue_json() if entry["code"] in used],
    }


__all__ = ["SHARED_NAMES", "SHARED_SCHEMAS", "document_routes", "function_document", "operation_id"]
