"""The JSON shapes the SDK parses: ``Function`` (from appwrite.json) and ``Execution``.

Functions are not stored: they are whatever ``appwrite.json`` says right now, so the fields a real
server keeps about deployments and VCS are filled with fixed, sensible values.
"""

from __future__ import annotations

import base64
from typing import Any

from ..common import now_iso
from ..runner.project import FunctionSpec

EPOCH = "1970-01-01T00:00:00.000+00:00"
# Appwrite keeps only these headers on a stored execution (FUNCTION_WHITELIST_HEADERS_*);
# the synchronous response carries them all.
REQUEST_HEADERS_KEPT = frozenset({"content-type", "agent", "content-length", "host"})
RESPONSE_HEADERS_KEPT = frozenset({"content-type", "content-length"})
LOG_LIMIT = 1_000_000


def deployment_id(mode: str) -> str:
    return f"local-{mode}"


def function_document(fn: FunctionSpec, mode: str) -> dict[str, Any]:
    deployment = deployment_id(mode)
    return {
        "$id": fn.id,
        "$createdAt": EPOCH,
        "$updatedAt": EPOCH,
        "execute": list(fn.execute),
        "name": fn.name,
        "description": "",
        "enabled": fn.enabled,
        "live": True,
        "logging": fn.logging,
        "runtime": fn.runtime,
        "deploymentRetention": 0,
        "deploymentId": deployment,
        "deploymentCreatedAt": EPOCH,
        "latestDeploymentId": deployment,
        "latestDeploymentCreatedAt": EPOCH,
        "latestDeploymentStatus": "ready",
        "scopes": list(fn.scopes),
        "vars": [_variable(fn, key, value) for key, value in fn.vars.items()],
        "events": list(fn.events),
        "schedule": fn.schedule,
        "timeout": fn.timeout,
        "entrypoint": fn.entrypoint,
        "commands": fn.commands,
        "version": "v5",
        "installationId": "",
        "providerRepositoryId": "",
        "providerBranch": "",
        "providerRootDirectory": "",
        "providerSilentMode": False,
        "providerBranches": [],
        "providerPaths": [],
        "specification": fn.specification,
        "buildSpecification": fn.specification,
        "runtimeSpecification": fn.specification,
        "emailEnabled": False,
    }


def _variable(fn: FunctionSpec, key: str, value: str) -> dict[str, Any]:
    return {
        "$id": f"{fn.id}-{key}"[:36],
        "$createdAt": EPOCH,
        "$updatedAt": EPOCH,
        "key": key,
        "description": "",
        "value": value,
        "secret": False,
        "resourceType": "function",
        "resourceId": fn.id,
    }


def new_execution(
    execution_id: str, fn: FunctionSpec, mode: str, trigger: str, method: str, path: str,
    headers: dict[str, str], permissions: list[str], status: str, scheduled_at: str | None,
) -> dict[str, Any]:
    now = now_iso()
    return {
        "$id": execution_id,
        "$createdAt": now,
        "$updatedAt": now,
        "$permissions": permissions,
        "functionId": fn.id,
        "resourceId": fn.id,
        "resourceType": "functions",
        "deploymentId": deployment_id(mode),
        "trigger": trigger,
        "status": status,
        "requestMethod": method,
        "requestPath": path,
        "requestHeaders": header_list(headers),
        "responseStatusCode": 0,
        "responseBody": "",
        "responseHeaders": [],
        "logs": "",
        "errors": "",
        "duration": 0.0,
        "scheduledAt": scheduled_at,
    }


def finish_execution(doc: dict[str, Any], result: dict[str, Any], logging: bool) -> dict[str, Any]:
    """The execution as the synchronous caller sees it (every header, the body)."""
    full = dict(doc)
    full.update(
        {
            "$updatedAt": now_iso(),
            "status": "failed" if result["statusCode"] >= 500 else "completed",
            "responseStatusCode": result["statusCode"],
            "responseBody": response_text(result["body"]),
            "responseHeaders": header_list(result["headers"]),
            "logs": result.get("logs", "")[:LOG_LIMIT] if logging else "",
            "errors": result.get("errors", "")[:LOG_LIMIT] if logging else "",
            "duration": round(float(result.get("duration", 0.0)), 6),
        }
    )
    return full


def stored_view(full: dict[str, Any]) -> dict[str, Any]:
    """What Appwrite keeps: no response body, only the whitelisted headers."""
    doc = dict(full)
    doc["responseBody"] = ""
    doc["requestHeaders"] = [h for h in full["requestHeaders"] if h["name"] in REQUEST_HEADERS_KEPT]
    doc["responseHeaders"] = [h for h in full["responseHeaders"] if h["name"] in RESPONSE_HEADERS_KEPT]
    return doc


def public_view(doc: dict[str, Any], is_key: bool) -> dict[str, Any]:
    """Logs and errors are only returned to API-key callers."""
    if is_key:
        return doc
    return {**doc, "logs": "", "errors": ""}


def header_list(headers: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": str(v)} for k, v in headers.items()]


def response_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(body).decode("ascii")
