"""``invoke openapi``: write every function's OpenAPI document and the combined one to docs/openapi/.

Each function of ``appwrite.json`` is imported as the runtime imports it (its folder bound to a package,
``src/main.py`` as a module) and its ``main.router`` handed to ``bigtech.openapi.function_document`` — the
same call its ``GET /openapi.json`` makes. ``--check`` writes nothing and exits 1 naming the stale files
(what ``tests/unit/test_openapi_docs.py`` runs). A function without a router (``relay``) has no document.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
OUT = REPO_ROOT / "docs" / "openapi"
COMBINED = "bigtech.json"


def functions(root: Path = REPO_ROOT) -> list[dict[str, Any]]:
    return json.loads((root / "appwrite.json").read_text())["functions"]


def load_router(function: dict[str, Any], root: Path = REPO_ROOT) -> Any:
    """The function's ``Router`` (``None`` when its ``main`` has none)."""
    from local_appwrite.runner.loader import bind_package, module_name

    package = "_openapi_" + function["$id"].replace("-", "_")
    bind_package(package, root / function["path"])
    module = importlib.import_module(module_name(package, function.get("entrypoint") or "src/main.py"))
    return getattr(module.main, "router", None)


def documents(root: Path = REPO_ROOT) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """``({function id: document}, combined document)``."""
    from bigtech.openapi import combined_document, function_document

    found: dict[str, dict[str, Any]] = {}
    execute: dict[str, list[str]] = {}
    for function in functions(root):
        router = load_router(function, root)
        if router is None:
            continue
        found[function["$id"]] = function_document(router, function["$id"])
        execute[function["$id"]] = list(function.get("execute") or [])
    return found, combined_document(found, execute)


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rendered(root: Path = REPO_ROOT) -> dict[str, str]:
    """``{file name: text}`` of every document."""
    per_function, combined = documents(root)
    files = {f"{function_id}.json": render(document) for function_id, document in per_function.items()}
    files[COMBINED] = render(combined)
    return files


def stale(out: Path = OUT, root: Path = REPO_ROOT) -> list[str]:
    """Files under ``out`` that differ from what the code generates now (missing or extra included)."""
    wanted = rendered(root)
    present = {path.name for path in out.glob("*.json")} if out.is_dir() else set()
    problems = [name for name, text in sorted(wanted.items())
                if name not in present or (out / name).read_text() != text]
    problems += sorted(present - set(wanted))
    return problems


def write(out: Path = OUT, root: Path = REPO_ROOT) -> list[str]:
    wanted = rendered(root)
    out.mkdir(parents=True, exist_ok=True)
    for path in out.glob("*.json"):
        if path.name not in wanted:
            path.unlink()
    for name, text in wanted.items():
        (out / name).write_text(text)
    return sorted(wanted)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file is stale")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if args.check:
        problems = stale(args.out)
        for name in problems:
            print(f"stale: {args.out / name}")
        return 1 if problems else 0
    for name in write(args.out):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    for folder in (REPO_ROOT / "shared", REPO_ROOT / "scripts"):
        sys.path.insert(0, str(folder))
    sys.exit(main())
