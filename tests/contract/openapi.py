"""Appwrite's official server OpenAPI spec, as a validator of the local stack's responses.

``ContractValidator.check(method, path, status, body)`` finds the spec operation for a concrete
request path, picks the response schema for the status, and validates the body with jsonschema.
OpenAPI 3.0's ``nullable`` is turned into JSON Schema's ``type: [..., "null"]`` first.

Deliberate divergences (documented in docs/local-appwrite.md) are listed in ``DIVERGENCES``: the
local stack answers in the response format SDK 27 parses (format 2.5.0), which differs from the
1.8.1 spec on a few fields.
"""

from __future__ import annotations

import copy
import gzip
import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema

# Vendored (gzip, ~100 kB) so a fresh clone needs nothing beside it; the upstream file is Appwrite's
# official 1.8.1 server spec, byte for byte. BIGTECH_APPWRITE_SPEC points elsewhere (plain or .gz).
SPEC_PATH = Path(
    os.environ.get("BIGTECH_APPWRITE_SPEC")
    or Path(__file__).resolve().parent / "spec" / "appwrite-1.8.1-server.openapi.json.gz"
)


def load_spec(path: Path) -> dict[str, Any]:
    raw = path.read_bytes()
    return json.loads(gzip.decompress(raw) if path.suffix == ".gz" else raw)

# (method, spec path, status) the local stack answers that the 1.8.1 spec does not list, and why.
EXTRA_STATUSES: dict[tuple[str, str, int], tuple[str, str]] = {
    ("POST", "/functions/{functionId}/executions", 202): (
        "execution", "Appwrite answers 202 for async executions (reference §4); the spec lists only 201",
    ),
}

# (schema name, property) → the JSON type we answer with instead, and why.
DIVERGENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("row", "$sequence"): ("string", "SDK 27's Row model declares $sequence as str (format 2.5.0)"),
    ("error", "code"): ("integer", "real Appwrite servers answer the HTTP status as an integer"),
}


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    regex: re.Pattern[str]
    responses: dict[str, Any]


class ContractValidator:
    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        self.spec = load_spec(spec_path)
        self.operations = [
            Operation(method.upper(), template, _template_regex(template), op.get("responses", {}))
            for template, item in self.spec["paths"].items()
            for method, op in item.items()
            if method in {"get", "post", "put", "patch", "delete"}
        ]
        # Literal segments beat parameters: /tablesdb/transactions before /tablesdb/{databaseId}.
        self.operations.sort(key=lambda op: op.template.count("{"))

    @cached_property
    def components(self) -> dict[str, Any]:
        components = copy.deepcopy(self.spec["components"])
        for (schema, prop), (json_type, _why) in DIVERGENCES.items():
            components["schemas"][schema]["properties"][prop]["type"] = json_type
        return _nullable_to_json_schema(components)

    def operation(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method.upper() and op.regex.match(path):
                return op
        return None

    def check(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Return the problems found (empty when the response honours the spec)."""
        if status >= 400:
            return self._validate(body, "#/components/schemas/error", f"{method} {path} {status}")
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path}: no such operation in the spec"]
        extra = EXTRA_STATUSES.get((op.method, op.template, status))
        if extra is not None:
            ref = f"#/components/schemas/{extra[0]}"
            return self._validate(body, ref, f"{method} {op.template} {status}")
        declared = op.responses.get(str(status))
        if declared is None:
            return [f"{method} {path}: status {status} not in spec {sorted(op.responses)}"]
        schema = _schema_of(declared)
        if schema is None:
            return []
        return self._validate(body, schema, f"{method} {op.template} {status}")

    def _validate(self, body: Any, schema: dict[str, Any] | str, where: str) -> list[str]:
        if isinstance(schema, str):
            schema = {"$ref": schema}
        validator = jsonschema.Draft7Validator({**_one_of_as_any_of(schema), "components": self.components})
        return [f"{where}: {'/'.join(map(str, e.absolute_path))} {e.message}" for e in validator.iter_errors(body)]


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", template) + "$")


def _schema_of(response: dict[str, Any]) -> dict[str, Any] | None:
    for content in response.get("content", {}).values():
        if "schema" in content:
            return content["schema"]
    return None


def _one_of_as_any_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The spec's ``oneOf`` over column models is really "any of": an enum column also matches
    the email/url/ip shapes (they differ only in ``format``'s example), so exactly-one can't hold."""
    if "oneOf" in schema:
        schema = {**schema, "anyOf": schema["oneOf"]}
        del schema["oneOf"]
    return schema


def _nullable_to_json_schema(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
        if node.pop("nullable", False) and "type" in node:
            node["type"] = [node["type"], "null"]
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        return node
    if isinstance(node, list):
        return [_nullable_to_json_schema(v) for v in node]
    return node
