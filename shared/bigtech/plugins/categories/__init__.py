"""JSON Schemas of the consulta categories: the normalized ``data`` every consulta plugin returns.

``validate_data(category, data)`` is what a consulta plugin runs before answering (a mismatch is a
bug in its normalizer, reported as ``failed``), and what tests run on every normalizer's output.
Field names are Portuguese because they are what tenants' clients display.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

CATEGORIES = ("cadastral", "veicular", "credito")
_FOLDER = Path(__file__).parent


class CategoryDataError(ValueError):
    def __init__(self, category: str, problems: list[str]) -> None:
        self.category = category
        self.problems = problems
        super().__init__(f"{category}: " + "; ".join(problems))


@cache
def category_schema(category: str) -> dict[str, Any]:
    if category not in CATEGORIES:
        raise KeyError(f"Unknown category {category!r}.")
    return json.loads((_FOLDER / f"{category}.schema.json").read_text(encoding="utf-8"))


def problems(category: str, data: Any) -> list[str]:
    """Schema violations as ``$.path: message`` strings ([] = valid). Messages may quote values: keep
    them out of logs unless masked."""
    validator = jsonschema.Draft202012Validator(category_schema(category))
    return [f"{e.json_path}: {e.message}" for e in sorted(validator.iter_errors(data), key=lambda e: e.json_path)]


def validate_data(category: str, data: Any) -> None:
    found = problems(category, data)
    if found:
        raise CategoryDataError(category, found)


__all__ = ["CATEGORIES", "CategoryDataError", "category_schema", "problems", "validate_data"]
