"""Render the core database in Appwrite CLI 12's ``appwrite.json`` format, for reading only.

The project's ``appwrite.json`` deliberately carries **no** ``tablesDB``/``tables`` section:
``appwrite push tables`` deletes every database its file does not list (every tenant database) and
recreates string columns whose ``encrypt`` key is missing. Databases are created by
``invoke bootstrap`` and changed by ``invoke migrate`` (docs/deploy.md). ``invoke schema`` prints
these entries (with ``encrypt`` explicit) so the declaration can be read in the CLI's terms.
"""

from __future__ import annotations

from typing import Any

from .core import CORE_DATABASE_ID, CORE_SCHEMA
from .model import Column, DatabaseSchema, Index, Table

# Our column types → the CLI's (type, format).
_CLI_TYPES = {
    "string": ("string", ""),
    "integer": ("integer", ""),
    "float": ("double", ""),
    "boolean": ("boolean", ""),
    "datetime": ("datetime", ""),
    "enum": ("string", "enum"),
    "email": ("string", "email"),
    "url": ("string", "url"),
}


def core_entries() -> dict[str, Any]:
    return database_entries(CORE_DATABASE_ID, "core", CORE_SCHEMA)


def database_entries(database_id: str, name: str, schema: DatabaseSchema) -> dict[str, Any]:
    return {
        "tablesDB": [{"$id": database_id, "name": name, "enabled": True}],
        "tables": [_table(database_id, table) for table in schema.tables],
    }


def _table(database_id: str, table: Table) -> dict[str, Any]:
    return {
        "$id": table.id,
        "$permissions": [],
        "databaseId": database_id,
        "name": table.name,
        "enabled": True,
        "rowSecurity": False,
        "columns": [_column(column) for column in table.columns],
        "indexes": [_index(index) for index in table.indexes],
    }


def _column(column: Column) -> dict[str, Any]:
    cli_type, cli_format = _CLI_TYPES[column.type]
    entry: dict[str, Any] = {
        "key": column.key,
        "type": cli_type,
        "required": column.required,
        "array": column.array,
        "default": None if column.required else column.default,
        "encrypt": False,  # explicit: a missing key makes the CLI recreate (drop) the column
    }
    if column.type == "string":
        entry["size"] = column.size or 255
    if column.type in {"integer", "float"}:
        entry["min"] = column.min
        entry["max"] = column.max
    if cli_format:
        entry["format"] = cli_format
    if column.type == "enum":
        entry["elements"] = list(column.elements)
    return entry


def _index(index: Index) -> dict[str, Any]:
    return {
        "key": index.key,
        "type": index.type,
        "status": "available",
        "columns": list(index.columns),
        "orders": list(index.orders) or ["ASC"] * len(index.columns),
    }


def merge_core_entries(project: dict[str, Any]) -> dict[str, Any]:
    """``project`` (a parsed ``appwrite.json``) with its core database entries replaced by the declared
    ones; entries of other databases and every other key are kept as they are."""
    entries = core_entries()
    merged = dict(project)
    merged["tablesDB"] = [db for db in project.get("tablesDB", []) if db.get("$id") != CORE_DATABASE_ID]
    merged["tablesDB"] += entries["tablesDB"]
    merged["tables"] = [t for t in project.get("tables", []) if t.get("databaseId") != CORE_DATABASE_ID]
    merged["tables"] += entries["tables"]
    return merged


def dump_project(project: dict[str, Any]) -> str:
    """``appwrite.json`` text: two-space indent, short lists of scalars kept on one line."""
    import json
    import re

    text = json.dumps(project, indent=2, ensure_ascii=False)

    def inline(match: re.Match[str]) -> str:
        items = [item.strip() for item in match.group(2).split(",\n")]
        one_line = match.group(1) + "[" + ", ".join(items) + "]"
        return one_line if len(one_line) <= 120 else match.group(0)

    # a list whose items are all scalars (no nested braces or brackets)
    return re.sub(r"(\n\s*\"[^\"]+\": )\[\n([^\[\]{}]*?)\n\s*\]", inline, text) + "\n"


if __name__ == "__main__":  # ``PYTHONPATH=shared python -m bigtech.schema.appwrite_json``: print, never write
    print(dump_project(core_entries()), end="")
