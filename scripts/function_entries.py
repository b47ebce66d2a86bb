"""``appwrite.json``'s ``functions``, generated from the folders (as ``invoke schema`` renders the tables).

Every folder ``functions/<id>/`` and ``plugins/<tipo>/<nome>/`` (the one with a ``plugin.json``, whose ``id``
is the function id) is one Appwrite function. Its entry is the defaults below, then its kind's defaults
(CORE, or the plugin's ``type``), then the folder's own ``function.json`` (only what differs: scopes,
schedule, events, timeout, who may execute it). A new fonte needs no ``function.json`` at all.

``python scripts/function_entries.py`` (``invoke functions``) rewrites ``appwrite.json``; ``--check`` only
says whether it is up to date (``tests/build/test_function_entries.py`` fails the same way).
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
SETTINGS_FILE = "function.json"
# What an Appwrite function entry may take from a function.json (the rest is the same for every function).
SETTINGS = ("execute", "events", "scopes", "schedule", "timeout", "specification")

COMMON: dict[str, Any] = {
    "runtime": "python-3.12",
    "specification": "s-0.5vcpu-512mb",
    "execute": [],
    "events": [],
    "scopes": [],
    "schedule": "",
    "timeout": 30,
    "enabled": True,
    "logging": True,
    "entrypoint": "src/main.py",
    # Bytecode compiled at build ships in the deployment: a cold worker then imports instead of compiling our
    # modules (about half of the consultas cold import). unchecked-hash: the archive's mtimes cannot stale it.
    "commands": "pip install -r requirements.txt && python -m compileall -q --invalidation-mode unchecked-hash"
                " -x runtime-env .",
    "ignore": ["__pycache__", "*.pyc", ".venv", "tests", ".env"],
}
KIND_DEFAULTS: dict[str, dict[str, Any]] = {
    # CORE functions answer signed-in users (x-appwrite-jwt); each lists its own scopes.
    "core": {"execute": ["users"], "specification": "s-1vcpu-512mb"},
    # consulta plugins execute their fontes and read routing/health rows; only CORE executes them
    "consulta": {"scopes": ["executions.write", "rows.read", "rows.write"]},
    # payment gateways call /webhook/{tenant_id} without an Appwrite session
    "pagamento": {"execute": ["any"], "scopes": ["rows.read", "rows.write"]},
}


class EntriesError(ValueError):
    """A folder's function.json or plugin.json cannot be used; the message says which and why."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise EntriesError(f"{path}: cannot read: {error}") from None
    if not isinstance(data, dict):
        raise EntriesError(f"{path}: must be a JSON object")
    return data


def _own_settings(folder: Path) -> dict[str, Any]:
    path = folder / SETTINGS_FILE
    if not path.exists():
        return {}
    settings = _read_json(path)
    unknown = sorted(set(settings) - set(SETTINGS) - {"$comment"})
    if unknown:
        raise EntriesError(f"{path}: unknown keys {unknown}; allowed: {list(SETTINGS)}")
    settings.pop("$comment", None)
    return settings


def _entry(function_id: str, kind: str, folder: Path, repo_root: Path) -> dict[str, Any]:
    settings = {**COMMON, **KIND_DEFAULTS.get(kind, {}), **_own_settings(folder)}
    return {"$id": function_id, "name": function_id, **settings, "path": folder.relative_to(repo_root).as_posix()}


def function_folders(repo_root: Path = REPO_ROOT) -> list[tuple[str, str, Path]]:
    """(function id, kind, folder) for every CORE function, then every plugin, in path order."""
    found = [(folder.name, "core", folder) for folder in sorted((repo_root / "functions").iterdir())
             if (folder / "src" / "main.py").exists()]
    for manifest in sorted((repo_root / "plugins").glob("*/*/plugin.json")):
        data = _read_json(manifest)
        if not isinstance(data.get("id"), str) or not isinstance(data.get("type"), str):
            raise EntriesError(f"{manifest}: needs an id and a type")
        found.append((data["id"], data["type"], manifest.parent))
    return found


def entries(repo_root: Path = REPO_ROOT) -> list[dict[str, Any]]:
    return [_entry(function_id, kind, folder, repo_root) for function_id, kind, folder in function_folders(repo_root)]


def render(repo_root: Path = REPO_ROOT) -> tuple[str, str]:
    """(appwrite.json as it is, as it should be)."""
    if str(REPO_ROOT / "shared") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "shared"))
    from bigtech.schema.appwrite_json import dump_project

    path = repo_root / "appwrite.json"
    current = path.read_text(encoding="utf-8")
    project = json.loads(current)
    project["functions"] = entries(repo_root)
    return current, dump_project(project)


def out_of_date(repo_root: Path = REPO_ROOT) -> str:
    """A readable diff when appwrite.json's functions are not what the folders say ("" when up to date)."""
    current, wanted = render(repo_root)
    if current == wanted:
        return ""
    diff = difflib.unified_diff(current.splitlines(), wanted.splitlines(), "appwrite.json", "generated", lineterm="")
    return ("appwrite.json's functions are generated from the function folders (function.json, plugin.json):\n"
            "edit those, then run `invoke functions` (python scripts/function_entries.py).\n" + "\n".join(diff))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only say whether appwrite.json is up to date")
    args = parser.parse_args(argv)
    try:
        problem = out_of_date()
    except EntriesError as error:
        print(error, file=sys.stderr)
        return 2
    if args.check:
        print(problem or "appwrite.json is up to date")
        return 1 if problem else 0
    if problem:
        (REPO_ROOT / "appwrite.json").write_text(render()[1], encoding="utf-8")
        print("appwrite.json: functions regenerated")
    else:
        print("appwrite.json is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
