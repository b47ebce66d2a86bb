"""Functions managed through the API (create/update/delete, variables), on top of ``appwrite.json``.

The stack starts with the functions its ``appwrite.json`` declares (source or build mode). The
Functions API (what ``appwrite push functions`` and ``invoke bootstrap`` call) can create more,
update any of them and give them variables; those changes are stored in SQLite and win over the
file. A function whose active deployment is set runs *that deployment's* files, never the file's
folder: see ``deployments.py``.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..common import dumps, loads, now_iso
from ..errors import AppwriteError
from ..runner.project import FunctionSpec, Project
from ..storage import Storage

SCHEMA = """
CREATE TABLE IF NOT EXISTS aw_functions (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aw_function_variables (
    id TEXT NOT NULL,
    function_id TEXT NOT NULL,
    key TEXT NOT NULL,
    doc TEXT NOT NULL,
    PRIMARY KEY (function_id, id),
    UNIQUE (function_id, key)
);
"""

# The settable attributes of a function (POST /functions and PUT /functions/{id}), with defaults.
SETTABLE: dict[str, Any] = {
    "name": "", "runtime": "", "execute": [], "events": [], "schedule": "", "timeout": 15, "enabled": True,
    "logging": True, "entrypoint": "", "commands": "", "scopes": [], "specification": "s-1vcpu-512mb",
}
VARIABLE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")


@dataclass(frozen=True)
class _Snapshot:
    """What ``functions()`` merged, and from what: reused until a write or a change of appwrite.json."""

    generation: int
    declared: dict[str, FunctionSpec]  # the project's dict it was merged from (a new one when the file changes)
    stored: dict[str, dict[str, Any]]
    merged: dict[str, FunctionSpec]


class FunctionRegistry:
    """The functions the stack knows: ``appwrite.json``'s, overridden and extended by stored ones.

    Every execution and every event asks for them (which function, its deployment, its subscriptions), so
    the merged view is kept and rebuilt only after a write through this registry (the only writer of its
    tables) or when ``appwrite.json`` changes; ``_generation`` makes a rebuild that raced a write not kept.
    """

    def __init__(self, storage: Storage, project: Project, deployments_root: Path) -> None:
        self.storage = storage
        self.project = project
        self.deployments_root = deployments_root
        self._lock = threading.Lock()
        self._generation = 0
        self._snapshot: _Snapshot | None = None
        self._snapshot_lock = threading.Lock()
        storage.migrate(SCHEMA)

    # -- reading ------------------------------------------------------------------------------
    def stored(self, function_id: str) -> dict[str, Any] | None:
        doc = self._current().stored.get(function_id)
        return dict(doc) if doc is not None else None

    def _all_stored(self) -> dict[str, dict[str, Any]]:
        with self.storage.read() as conn:
            rows = conn.execute("SELECT doc FROM aw_functions ORDER BY rowid").fetchall()
        return {doc["$id"]: doc for doc in (loads(row["doc"]) for row in rows)}

    def _current(self) -> _Snapshot:
        declared = self.project.functions()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.generation == self._generation and snapshot.declared is declared:
            return snapshot
        generation = self._generation
        stored = self._all_stored()
        variables = self._all_variable_values()
        merged: dict[str, FunctionSpec] = declared
        if stored or variables:
            merged = {}
            for function_id in [*declared, *(i for i in stored if i not in declared)]:
                merged[function_id] = self._spec(function_id, declared.get(function_id), stored.get(function_id),
                                                 variables.get(function_id, {}))
        snapshot = _Snapshot(generation, declared, stored, merged)
        with self._snapshot_lock:
            # not kept when read inside a write: what that write changed could still roll back
            if generation == self._generation and not self.storage.in_write():
                self._snapshot = snapshot
        return snapshot

    def _changed(self) -> None:
        """After every write of the registry's tables (committed or not): the kept view is stale."""
        with self._snapshot_lock:
            self._generation += 1
            self._snapshot = None

    def functions(self) -> dict[str, FunctionSpec]:
        return self._current().merged

    def get(self, function_id: str) -> FunctionSpec | None:
        return self._current().merged.get(function_id)

    def declared_in_file(self, function_id: str) -> bool:
        return function_id in self.project.functions()

    def active_deployment(self, function_id: str) -> str:
        doc = self.stored(function_id)
        return str(doc.get("deploymentId") or "") if doc else ""

    def deployment_folder(self, function_id: str, deployment_id: str) -> Path:
        return self.deployments_root / function_id / deployment_id / "code"

    def _spec(self, function_id: str, declared: FunctionSpec | None, stored: dict[str, Any] | None,
              variables: dict[str, str]) -> FunctionSpec:
        if stored is None:
            assert declared is not None
            return replace(declared, vars={**declared.vars, **variables}) if variables else declared
        base = declared or FunctionSpec(id=function_id, name=function_id, folder=self.deployments_root / "none")
        deployment = stored.get("deploymentId") or ""
        folder = self.deployment_folder(function_id, deployment) if deployment else base.folder
        return replace(
            base,
            name=stored.get("name") or base.name,
            folder=folder,
            entrypoint=stored.get("entrypoint") or base.entrypoint,
            runtime=stored.get("runtime") or base.runtime,
            specification=stored.get("specification") or base.specification,
            execute=tuple(stored.get("execute") or ()),
            events=tuple(stored.get("events") or ()),
            scopes=tuple(stored.get("scopes") or ()),
            schedule=stored.get("schedule") or "",
            timeout=int(stored.get("timeout") or 15),
            enabled=bool(stored.get("enabled", True)),
            logging=bool(stored.get("logging", True)),
            commands=stored.get("commands") or "",
            vars={**base.vars, **variables},
        )

    # -- writing ------------------------------------------------------------------------------
    def create(self, function_id: str, values: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            if self.stored(function_id) is not None or self.declared_in_file(function_id):
                raise AppwriteError(409, "function_already_exists", "Function with the requested ID already exists.")
            now = now_iso()
            doc = {"$id": function_id, "$createdAt": now, "$updatedAt": now, "deploymentId": "",
                   **{key: values.get(key, default) for key, default in SETTABLE.items()}}
            self._save(doc)
            return doc

    def update(self, function_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """PUT semantics, as Appwrite's: attributes not sent fall back to their defaults."""
        with self._lock:
            current = self.stored(function_id) or self._from_file(function_id)
            if current is None:
                raise function_missing()
            doc = {**current, "$updatedAt": now_iso(),
                   **{key: values.get(key, default) for key, default in SETTABLE.items() if key != "runtime"}}
            if values.get("runtime"):
                doc["runtime"] = values["runtime"]
            self._save(doc)
            return doc

    def set_deployment(self, function_id: str, deployment_id: str) -> dict[str, Any]:
        with self._lock:
            current = self.stored(function_id) or self._from_file(function_id)
            if current is None:
                raise function_missing()
            doc = {**current, "deploymentId": deployment_id, "$updatedAt": now_iso()}
            self._save(doc)
            return doc

    def delete(self, function_id: str) -> None:
        if self.declared_in_file(function_id):
            raise AppwriteError(
                400, "general_argument_invalid",
                "This function is declared in the stack's appwrite.json; remove it there (local stack only).",
            )
        try:
            with self.storage.write() as conn:
                deleted = conn.execute("DELETE FROM aw_functions WHERE id = ?", (function_id,)).rowcount
                conn.execute("DELETE FROM aw_function_variables WHERE function_id = ?", (function_id,))
        finally:
            self._changed()
        if not deleted:
            raise function_missing()

    def _from_file(self, function_id: str) -> dict[str, Any] | None:
        """A file-declared function as a stored document, the first time the API changes it."""
        fn = self.project.functions().get(function_id)
        if fn is None:
            return None
        return {
            "$id": fn.id, "$createdAt": now_iso(), "$updatedAt": now_iso(), "deploymentId": "",
            "name": fn.name, "runtime": fn.runtime, "execute": list(fn.execute), "events": list(fn.events),
            "schedule": fn.schedule, "timeout": fn.timeout, "enabled": fn.enabled, "logging": fn.logging,
            "entrypoint": fn.entrypoint, "commands": fn.commands, "scopes": list(fn.scopes),
            "specification": fn.specification,
        }

    def _save(self, doc: dict[str, Any]) -> None:
        try:
            with self.storage.write() as conn:
                conn.execute("INSERT INTO aw_functions (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = ?",
                             (doc["$id"], dumps(doc), dumps(doc)))
        finally:
            self._changed()

    # -- variables ----------------------------------------------------------------------------
    def _all_variable_values(self) -> dict[str, dict[str, str]]:
        with self.storage.read() as conn:
            rows = conn.execute("SELECT function_id, doc FROM aw_function_variables ORDER BY rowid").fetchall()
        values: dict[str, dict[str, str]] = {}
        for row in rows:
            doc = loads(row["doc"])
            values.setdefault(row["function_id"], {})[doc["key"]] = doc["value"]
        return values

    def variables(self, function_id: str) -> list[dict[str, Any]]:
        with self.storage.read() as conn:
            rows = conn.execute("SELECT doc FROM aw_function_variables WHERE function_id = ? ORDER BY rowid",
                                (function_id,)).fetchall()
        return [loads(row["doc"]) for row in rows]

    def variable_values(self, function_id: str) -> dict[str, str]:
        return {doc["key"]: doc["value"] for doc in self.variables(function_id)}

    def variable(self, function_id: str, variable_id: str) -> dict[str, Any]:
        with self.storage.read() as conn:
            row = conn.execute("SELECT doc FROM aw_function_variables WHERE function_id = ? AND id = ?",
                               (function_id, variable_id)).fetchone()
        if row is None:
            raise AppwriteError(404, "variable_not_found", "Variable with the requested ID could not be found.")
        return loads(row["doc"])

    def save_variable(self, function_id: str, variable_id: str, key: str, value: str, secret: bool,
                      creating: bool) -> dict[str, Any]:
        if not VARIABLE_KEY.match(key):
            raise AppwriteError(400, "general_argument_invalid",
                                "Invalid `key` param: Letters, digits and underscores only, must not start with a "
                                "digit, at most 255 chars.")
        if len(value) > 8192:
            raise AppwriteError(400, "general_argument_invalid", "Invalid `value` param: at most 8192 chars.")
        now = now_iso()
        try:
            return self._write_variable(function_id, variable_id, key, value, secret, creating, now)
        finally:
            self._changed()

    def _write_variable(self, function_id: str, variable_id: str, key: str, value: str, secret: bool,
                        creating: bool, now: str) -> dict[str, Any]:
        with self.storage.write() as conn:
            existing = conn.execute("SELECT doc FROM aw_function_variables WHERE function_id = ? AND id = ?",
                                    (function_id, variable_id)).fetchone()
            if creating and existing is not None:
                raise AppwriteError(409, "variable_already_exists", "Variable with the same ID already exists.")
            if not creating and existing is None:
                raise AppwriteError(404, "variable_not_found", "Variable with the requested ID could not be found.")
            clash = conn.execute("SELECT id FROM aw_function_variables WHERE function_id = ? AND key = ? AND id != ?",
                                 (function_id, key, variable_id)).fetchone()
            if clash is not None:
                raise AppwriteError(409, "variable_already_exists", "Variable with the same key already exists.")
            created_at = loads(existing["doc"])["$createdAt"] if existing else now
            doc = {"$id": variable_id, "$createdAt": created_at, "$updatedAt": now, "key": key, "value": value,
                   "secret": secret, "resourceType": "function", "resourceId": function_id}
            conn.execute(
                "INSERT INTO aw_function_variables (id, function_id, key, doc) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(function_id, id) DO UPDATE SET key = excluded.key, doc = excluded.doc",
                (variable_id, function_id, key, dumps(doc)),
            )
        return doc

    def delete_variable(self, function_id: str, variable_id: str) -> None:
        try:
            with self.storage.write() as conn:
                deleted = conn.execute("DELETE FROM aw_function_variables WHERE function_id = ? AND id = ?",
                                       (function_id, variable_id)).rowcount
        finally:
            self._changed()
        if not deleted:
            raise AppwriteError(404, "variable_not_found", "Variable with the requested ID could not be found.")


def function_missing() -> AppwriteError:
    return AppwriteError(404, "function_not_found", "Function with the requested ID could not be found.")


def public_variable(doc: dict[str, Any]) -> dict[str, Any]:
    """Secret variables are write-only through the API, as on Appwrite."""
    return {**doc, "value": ""} if doc.get("secret") else doc
