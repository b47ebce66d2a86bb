"""The functions declared in ``appwrite.json`` (CLI 12 keys), read the way the CLI reads them.

Paths are relative to the folder holding ``appwrite.json``. The file is re-read when it changes,
so editing a function's ``execute`` or ``events`` while the stack runs takes effect at once.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dotenv import dotenv_values


@dataclass(frozen=True)
class FunctionSpec:
    id: str
    name: str
    folder: Path
    entrypoint: str = "src/main.py"
    runtime: str = "python-3.12"
    specification: str = "s-1vcpu-512mb"
    execute: tuple[str, ...] = ()
    events: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    schedule: str = ""
    timeout: int = 15
    enabled: bool = True
    logging: bool = True
    commands: str = ""
    vars: dict[str, str] = field(default_factory=dict)

    @property
    def runtime_name(self) -> str:
        return self.runtime.split("-", 1)[0].capitalize()

    @property
    def runtime_version(self) -> str:
        return self.runtime.split("-", 1)[1] if "-" in self.runtime else ""

    @property
    def cpus(self) -> str:
        found = re.search(r"([\d.]+)vcpu", self.specification)
        return found.group(1) if found else "1"

    @property
    def memory_mb(self) -> str:
        found = re.search(r"(\d+)(mb|gb)", self.specification)
        if not found:
            return "512"
        return str(int(found.group(1)) * (1024 if found.group(2) == "gb" else 1))


def parse_function(entry: dict[str, Any], base: Path) -> FunctionSpec:
    folder = (base / entry.get("path", f"functions/{entry['$id']}")).resolve()
    return FunctionSpec(
        id=entry["$id"],
        name=entry.get("name") or entry["$id"],
        folder=folder,
        entrypoint=entry.get("entrypoint") or "src/main.py",
        runtime=entry.get("runtime") or "python-3.12",
        specification=entry.get("specification") or "s-1vcpu-512mb",
        execute=tuple(entry.get("execute") or ()),
        events=tuple(entry.get("events") or ()),
        scopes=tuple(entry.get("scopes") or ()),
        schedule=entry.get("schedule") or "",
        timeout=int(entry.get("timeout") or 15),
        enabled=bool(entry.get("enabled", True)),
        logging=bool(entry.get("logging", True)),
        commands=entry.get("commands") or "",
        vars=_variables(entry.get("vars"), folder),
    )


def _variables(declared: Any, folder: Path) -> dict[str, str]:
    """The function's ``.env`` (what ``push --with-variables`` uploads), then ``vars`` from appwrite.json."""
    values = {k: v or "" for k, v in dotenv_values(folder / ".env").items()} if (folder / ".env").exists() else {}
    if isinstance(declared, dict):
        values.update({str(k): str(v) for k, v in declared.items()})
    elif isinstance(declared, list):  # [{"key": ..., "value": ...}] as the API lists them
        values.update({str(v["key"]): str(v.get("value", "")) for v in declared if isinstance(v, dict) and "key" in v})
    return values


class Project:
    """The function list of one ``appwrite.json``, reloaded when the file changes."""

    def __init__(self, appwrite_json: Path) -> None:
        self.path = appwrite_json
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._functions: dict[str, FunctionSpec] = {}

    def functions(self) -> dict[str, FunctionSpec]:
        with self._lock:
            try:
                mtime = self.path.stat().st_mtime
            except FileNotFoundError:
                return {}
            if mtime != self._mtime:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                base = self.path.parent
                self._functions = {f["$id"]: parse_function(f, base) for f in data.get("functions", [])}
                self._mtime = mtime
            return self._functions

    def get(self, function_id: str) -> FunctionSpec | None:
        return self.functions().get(function_id)
