"""The combined document: every function's document under ``/<function id>``, one file for a client
generator. Function-local schemas are renamed ``<function id>.<Name>`` (two functions may both have a
``PageQuery``); the shared error schemas keep their names. ``x-appwrite-execution`` still holds each
operation's real function id and path.
"""

from __future__ import annotations

from typing import Any

import bigtech

from .. import error_codes
from .builder import OPENAPI_VERSION, SHARED_NAMES, SHARED_SCHEMAS

PREFIX = "#/components/schemas/"


def _renamed(value: Any, function_id: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "$ref" and isinstance(item, str) and item.startswith(PREFIX):
                name = item[len(PREFIX):]
                out[key] = item if name in SHARED_NAMES else f"{PREFIX}{function_id}.{name}"
            else:
                out[key] = _renamed(item, function_id)
        return out
    if isinstance(value, list):
        return [_renamed(item, function_id) for item in value]
    return value


def combined_document(documents: dict[str, dict[str, Any]],
                      execute: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Merge per-function documents (``{function id: document}``); ``execute`` adds each function's
    Appwrite execute roles (from appwrite.json) to its tag."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = dict(SHARED_SCHEMAS)
    schemes: dict[str, Any] = {}
    tags = []
    for function_id in sorted(documents):
        document = _renamed(documents[function_id], function_id)
        for path, item in document["paths"].items():
            paths["/" + function_id + (path if path != "/" else "")] = item
        for name, schema in document["components"]["schemas"].items():
            if name not in SHARED_NAMES:
                schemas[f"{function_id}.{name}"] = schema
        schemes.update(document["components"].get("securitySchemes", {}))
        tag: dict[str, Any] = {"name": function_id, "description": f"The `{function_id}` function."}
        if execute is not None and function_id in execute:
            tag["x-appwrite-execute"] = execute[function_id]
        tags.append(tag)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Bigtech",
            "version": bigtech.__version__,
            "description": "Every Bigtech function. Paths are `/<function id><execution path>`; call each "
                           "operation through Appwrite's executions API as its `x-appwrite-execution` says "
                           "(docs/openapi.md). Error codes: `x-error-codes` (docs/errors.md).",
        },
        "servers": [{"url": "/", "description": "Not directly callable: see x-appwrite-execution."}],
        "tags": tags,
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": dict(sorted(schemes.items()))},
        "x-error-codes": error_codes.catalogue_json(),
    }


__all__ = ["combined_document"]
