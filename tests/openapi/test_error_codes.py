"""The error-code catalogue (bigtech.error_codes) knows every code the code base can answer with.

An AST scan over shared/, functions/ and plugins/: every ``BigtechError`` subclass (found by name,
transitively) with its ``default_code``, and every ``Cls(..., code="…")`` / ``Cls.field(..., code="…")``
call of one of them. A code missing from the catalogue fails here with where it is raised.
"""

from __future__ import annotations

import ast
from pathlib import Path

from bigtech import error_codes

REPO_ROOT = Path(__file__).resolve().parents[2]
ROOTS = ("shared", "functions", "plugins")


def _trees() -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
            for root in ROOTS for path in sorted((REPO_ROOT / root).rglob("*.py")) if "build" not in path.parts]


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, ast.Name | ast.Attribute)}


def scan() -> dict[str, str]:
    """``{code: "file:line" where it is raised or defaulted}``."""
    trees = _trees()
    classes: dict[str, ast.ClassDef] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                classes.setdefault(node.name, node)
    errors = {"BigtechError"}
    grew = True
    while grew:
        found = {name for name, node in classes.items() if _base_names(node) & errors}
        grew = not found <= errors
        errors |= found
    codes: dict[str, str] = {}
    for path, tree in trees:
        where = path.relative_to(REPO_ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and node.name in errors:
                for item in node.body:
                    if isinstance(item, ast.Assign) and any(
                            isinstance(t, ast.Name) and t.id == "default_code" for t in item.targets) \
                            and isinstance(item.value, ast.Constant):
                        codes.setdefault(item.value.value, f"{where}:{item.lineno}")
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else None
            if isinstance(func, ast.Attribute):
                name = func.value.id if func.attr == "field" and isinstance(func.value, ast.Name) else func.attr
            if name not in errors:
                continue
            for keyword in node.keywords:
                if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                    codes.setdefault(keyword.value.value, f"{where}:{node.lineno}")
    return codes


def test_the_scan_finds_the_codes_it_must():
    codes = scan()
    assert {"validation_failed", "route_not_found", "order_not_found", "insufficient_credits",
            "api_key_revoked", "core_only", "plugin_unavailable"} <= set(codes)


def test_every_raised_code_is_in_the_catalogue():
    codes = scan()
    missing = {code: where for code, where in codes.items() if code not in error_codes.CATALOGUE}
    assert not missing, "error codes missing from shared/bigtech/error_codes.py (add code, status, meaning, " \
                        "message_pt):\n" + "\n".join(f"  {code}  raised at {where}" for code, where in sorted(
                            missing.items()))


def test_every_entry_is_complete():
    for entry in error_codes.CATALOGUE.values():
        assert entry.meaning and entry.message_pt, entry
        assert all(400 <= status < 600 for status in entry.statuses), entry


def test_docs_list_every_code():
    text = (REPO_ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
    absent = [code for code in error_codes.CATALOGUE if f"`{code}`" not in text]
    assert not absent, f"docs/errors.md does not list: {absent} (regenerate the table: see the top of that file)"
