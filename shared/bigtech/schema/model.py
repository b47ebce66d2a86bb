"""The vocabulary of the declarative schema: tables, columns and indexes.

One declaration serves three purposes: provisioning databases through the SDK
(:mod:`bigtech.schema.provision`), the core database entries of ``appwrite.json``
(:mod:`bigtech.schema.appwrite_json`), and documentation of what each table holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ColumnType = Literal["string", "integer", "float", "boolean", "datetime", "enum", "email", "url"]

# Appwrite's ceiling for an integer column (64-bit signed).
INT_MAX = 9223372036854775807
INT_MIN = -9223372036854775808


@dataclass(frozen=True)
class Column:
    key: str
    type: ColumnType
    required: bool = False
    size: int | None = None  # strings
    default: Any = None
    min: int | float | None = None
    max: int | float | None = None
    elements: tuple[str, ...] = ()  # enums
    array: bool = False


@dataclass(frozen=True)
class Index:
    key: str
    type: Literal["key", "unique", "fulltext"]
    columns: tuple[str, ...]
    orders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Table:
    id: str
    name: str
    columns: tuple[Column, ...]
    indexes: tuple[Index, ...] = ()
    description: str = ""

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)


@dataclass(frozen=True)
class DatabaseSchema:
    tables: tuple[Table, ...] = field(default_factory=tuple)

    def table(self, table_id: str) -> Table:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)


# Shorthands that keep the declarations in core.py / tenant.py one line per column.
def string(key: str, size: int = 255, *, required: bool = False, default: str | None = None) -> Column:
    return Column(key, "string", required=required, size=size, default=default)


def text(key: str, size: int = 65535) -> Column:
    """A JSON or free-text blob; never required, never indexed."""
    return Column(key, "string", size=size)


def integer(key: str, *, required: bool = False, default: int | None = None, min: int | None = None,
            max: int | None = None) -> Column:
    return Column(key, "integer", required=required, default=default, min=min, max=max)


def boolean(key: str, *, required: bool = False, default: bool | None = None) -> Column:
    return Column(key, "boolean", required=required, default=default)


def datetime_(key: str, *, required: bool = False) -> Column:
    return Column(key, "datetime", required=required)


def enum(key: str, elements: tuple[str, ...], *, required: bool = False, default: str | None = None) -> Column:
    return Column(key, "enum", required=required, elements=elements, default=default)


def email(key: str, *, required: bool = False) -> Column:
    return Column(key, "email", required=required)


def key_index(*columns: str, orders: tuple[str, ...] = ()) -> Index:
    return Index("idx_" + "_".join(columns), "key", tuple(columns), orders)


def unique_index(*columns: str) -> Index:
    return Index("uniq_" + "_".join(columns), "unique", tuple(columns))
