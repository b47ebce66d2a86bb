"""The platform's plugin catalog: core ``plugin_catalog``, one row per plugin function, from its manifest.

How the catalog learns the manifests at run time: CORE never reads ``plugins/*/plugin.json`` from disk
(a deployed function only has its own folder). ``sync`` lists the project's functions
(``Functions.list``, scope ``functions.read``), keeps those whose id looks like a plugin id
(``<tipo>-<nome>``), asks each for ``GET /manifest`` through a synchronous execution (scope
``executions.write``), checks it with the plugin SDK (``parse_manifest``) and upserts the row
(row id = plugin id). It runs on ``POST /plugins/catalog/sync`` (platform admin, audited) and, when
a tenant is created while the catalog lacks a default plugin, from ``enable_default_plugins``.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from ..plugins.manifest import Manifest, ManifestError, parse_manifest
from ..schema_constants import CORE_DATABASE_ID, PLUGIN_TYPES
from ..uow import UnitOfWork

TABLE = "plugin_catalog"
PAGE = 100


def is_plugin_id(function_id: str) -> bool:
    kind, _, name = function_id.partition("-")
    return kind in PLUGIN_TYPES and bool(name)


def catalog_row(manifest: Manifest) -> dict[str, Any]:
    return {
        "type": manifest.type, "name": manifest.name[:128], "version": manifest.version[:32],
        "function_id": manifest.id, "category": manifest.category,
        "manifest": json.dumps(manifest.to_json(), sort_keys=True, separators=(",", ":")),
    }


def manifest_from_row(row: Any) -> Manifest | None:
    """The stored manifest (checked when it was synced); ``None`` if the row is unreadable."""
    try:
        return Manifest.model_validate(json.loads(row.data.get("manifest") or "{}"))
    except ValueError:
        return None


def load_catalog(tables: TablesDB) -> dict[str, Manifest]:
    """Every catalogued plugin, by id (one call: the catalog is small)."""
    found: dict[str, Manifest] = {}
    cursor: str | None = None
    while True:
        queries = [Query.limit(PAGE)] + ([Query.cursor_after(cursor)] if cursor else [])
        rows = tables.list_rows(CORE_DATABASE_ID, TABLE, queries, total=False).rows
        for row in rows:
            manifest = manifest_from_row(row)
            if manifest is not None:
                found[row.id] = manifest
        if len(rows) < PAGE:
            return found
        cursor = rows[-1].id


MANIFEST_CACHE_SECONDS = 60.0
_manifests: dict[tuple[str, str], tuple[float, Manifest]] = {}
_manifests_lock = threading.Lock()


def cached_manifest(tables: TablesDB, plugin_id: str) -> Manifest | None:
    """``get_manifest`` remembered by a warm worker for ``MANIFEST_CACHE_SECONDS`` (one call fewer per
    consulta). A manifest changes only when a new deployment is synced into the catalog, and it reaches
    every worker within a minute — as the platform's default rate limit does. A plugin missing from the
    catalog is never remembered, so a sync that adds it is seen at once."""
    endpoint = str(getattr(getattr(tables, "client", None), "_endpoint", ""))
    key, now = (endpoint, plugin_id), time.monotonic()
    with _manifests_lock:
        cached = _manifests.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
    manifest = get_manifest(tables, plugin_id)
    if manifest is not None:
        with _manifests_lock:
            _manifests[key] = (now + MANIFEST_CACHE_SECONDS, manifest)
    return manifest


def get_manifest(tables: TablesDB, plugin_id: str) -> Manifest | None:
    try:
        return manifest_from_row(tables.get_row(CORE_DATABASE_ID, TABLE, plugin_id))
    except AppwriteException as error:
        if error.code in (400, 404):  # 400: not even a valid id
            return None
        raise


@dataclass
class Fetched:
    manifests: list[Manifest] = field(default_factory=list)
    errors: list[dict[str, str]] = field(default_factory=list)


def plugin_function_ids(functions: Functions) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        queries = [Query.limit(PAGE)] + ([Query.cursor_after(cursor)] if cursor else [])
        listed = functions.list(queries, total=False).functions
        ids += [fn.id for fn in listed if is_plugin_id(fn.id) and getattr(fn, "enabled", True)]
        if len(listed) < PAGE:
            return sorted(ids)
        cursor = listed[-1].id


def fetch_manifest(functions: Functions, function_id: str) -> Manifest:
    execution = functions.create_execution(function_id, body="", xasync=False, path="/manifest",
                                           method=ExecutionMethod.GET)
    if int(execution.responsestatuscode or 0) != 200:
        raise ManifestError(function_id, [f"GET /manifest answered HTTP {execution.responsestatuscode}"])
    try:
        data = json.loads(execution.responsebody or "")
    except ValueError:
        raise ManifestError(function_id, ["GET /manifest did not answer JSON"]) from None
    manifest = parse_manifest(data, f"{function_id} GET /manifest")
    if manifest.id != function_id:
        raise ManifestError(function_id, [f"$.id: the manifest says {manifest.id!r}, the function is {function_id!r}"])
    return manifest


def fetch_all(functions: Functions, only: list[str] | None = None) -> Fetched:
    """Manifests of every plugin function (or of ``only``); problems are listed, never raised."""
    fetched = Fetched()
    for function_id in only if only is not None else plugin_function_ids(functions):
        try:
            fetched.manifests.append(fetch_manifest(functions, function_id))
        except ManifestError as error:
            fetched.errors.append({"plugin_id": function_id, "message": "; ".join(error.problems)[:500]})
        except AppwriteException as error:
            fetched.errors.append({"plugin_id": function_id, "message": f"execution failed: {error.code} {error.type}"})
    return fetched


def stage_rows(unit: UnitOfWork, manifests: list[Manifest]) -> None:
    for manifest in manifests:
        unit.upsert(CORE_DATABASE_ID, TABLE, manifest.id, catalog_row(manifest))


def to_public(manifest: Manifest) -> dict[str, Any]:
    """What ``GET /plugins/catalog`` shows of a plugin."""
    return {
        "id": manifest.id, "type": manifest.type, "name": manifest.name, "version": manifest.version,
        "description": manifest.description, "category": manifest.category, "inputs": list(manifest.inputs),
        "config_schema": manifest.config, "secret_fields": manifest.secret_fields,
        "dependencies": manifest.dependencies.model_dump(), "default_fontes": list(manifest.default_fontes),
        "queries": list(manifest.queries), "events": list(manifest.events),
    }


__all__ = [
    "TABLE",
    "Fetched",
    "catalog_row",
    "fetch_all",
    "fetch_manifest",
    "get_manifest",
    "is_plugin_id",
    "load_catalog",
    "manifest_from_row",
    "plugin_function_ids",
    "stage_rows",
    "to_public",
]
