"""Make a database match a declared schema, through the Appwrite SDK.

Safe to run again: it creates only what is missing (database, tables, columns, indexes), so a
newer schema adds its new tables and columns to existing tenants.

A missing table is created in ONE call, its columns and indexes inline (``create_table(columns=...,
indexes=...)``, Appwrite 1.8.1+/1.9: created ``available`` at once): a new tenant database costs
2 + one call per table. Only an existing table being upgraded goes column by column; Appwrite
creates such columns asynchronously (``processing`` → ``available``) and refuses indexes over
columns that are not available yet, so those are waited for before indexes are made.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from appwrite.enums.order_by import OrderBy
from appwrite.enums.tables_db_index_type import TablesDBIndexType
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .core import CORE_DATABASE_ID, CORE_SCHEMA
from .model import Column, DatabaseSchema, Index, Table
from .tenant import TENANT_SCHEMA, tenant_database_id

COLUMN_WAIT_SECONDS = 30.0
# Appwrite lists 25 items by default; a table never has more than this many columns or indexes.
LIST_ALL = [Query.limit(100)]


@dataclass
class ProvisionReport:
    database_created: bool = False
    tables_created: list[str] = field(default_factory=list)
    columns_created: list[str] = field(default_factory=list)
    indexes_created: list[str] = field(default_factory=list)
    columns_relaxed: list[str] = field(default_factory=list)  # required → optional (audit.seq: null until sealed)

    @property
    def changed(self) -> bool:
        return bool(self.database_created or self.tables_created or self.columns_created or self.indexes_created
                    or self.columns_relaxed)


def provision(tables: TablesDB, database_id: str, name: str, schema: DatabaseSchema,
              progress: Callable[[str], None] | None = None) -> ProvisionReport:
    report = ProvisionReport()
    say = progress or (lambda _message: None)
    report.database_created = _ensure_database(tables, database_id, name)
    existing_tables = {t.id for t in tables.list_tables(database_id, LIST_ALL, total=False).tables}
    fresh: set[str] = set()  # created just now, whole: nothing to upgrade
    for table in schema.tables:
        if table.id not in existing_tables and _created(partial(_create_table, tables, database_id, table)):
            fresh.add(table.id)
            report.tables_created.append(table.id)
            report.columns_created += [f"{table.id}.{c.key}" for c in table.columns]
            report.indexes_created += [f"{table.id}.{i.key}" for i in table.indexes]
            say(f"{database_id}: table {table.id} created")
            continue
        existing_columns = _column_keys(tables, database_id, table.id)
        required_now = _required_keys(tables, database_id, table.id) if existing_columns else set()
        for column in table.columns:
            if column.key not in existing_columns and _created(
                    partial(_create_column, tables, database_id, table.id, column)):
                report.columns_created.append(f"{table.id}.{column.key}")
            elif column.key in required_now and not column.required and _relax(tables, database_id, table.id, column):
                report.columns_relaxed.append(f"{table.id}.{column.key}")
                say(f"{database_id}: column {table.id}.{column.key} no longer required")
    for table in schema.tables:
        if table.id in fresh:
            continue
        _wait_for_columns(tables, database_id, table)
        existing_indexes = {index.key for index in tables.list_indexes(database_id, table.id, LIST_ALL).indexes}
        for index in table.indexes:
            if index.key not in existing_indexes and _created(
                    partial(_create_index, tables, database_id, table.id, index)):
                report.indexes_created.append(f"{table.id}.{index.key}")
    return report


def _create_table(tables: TablesDB, database_id: str, table: Table) -> None:
    with warnings.catch_warnings(record=True):  # SDK 27 may flag inline definitions as experimental
        tables.create_table(database_id, table.id, table.name, columns=[column_definition(c) for c in table.columns],
                            indexes=[index_definition(i) for i in table.indexes])


# Appwrite 1.9's inline definitions (src/Appwrite/Utopia/Database/Validator/Attributes.php): storage types
# (``double`` for floats), string formats with an explicit size, ``attributes`` for an index's columns.
_STORAGE_TYPE = {"float": "double", "enum": "string", "email": "string", "url": "string"}
_FORMAT_SIZE = {"enum": 255, "email": 254, "url": 2000}


def column_definition(c: Column) -> dict[str, object]:
    definition: dict[str, object] = {"key": c.key, "type": _STORAGE_TYPE.get(c.type, c.type), "required": c.required,
                                     "array": c.array}
    if c.type in _FORMAT_SIZE:
        definition |= {"format": c.type, "size": _FORMAT_SIZE[c.type]}
    elif c.type == "string":
        definition["size"] = c.size or 255
    if c.type == "enum":
        definition["elements"] = list(c.elements)
    if c.min is not None:
        definition["min"] = c.min
    if c.max is not None:
        definition["max"] = c.max
    if c.default is not None and not c.required and not c.array:
        definition["default"] = c.default
    return definition


def index_definition(index: Index) -> dict[str, object]:
    definition: dict[str, object] = {"key": index.key, "type": index.type, "attributes": list(index.columns)}
    if index.orders:
        definition["orders"] = [str(o).upper() for o in index.orders]
    return definition


def _created(create: Callable[[], object]) -> bool:
    """Run a create call; ``False`` when it already exists (a concurrent provisioning got there first)."""
    try:
        create()
    except AppwriteException as error:
        if error.code == 409:
            return False
        raise
    return True


def provision_core(tables: TablesDB, progress: Callable[[str], None] | None = None) -> ProvisionReport:
    return provision(tables, CORE_DATABASE_ID, "core", CORE_SCHEMA, progress)


def provision_tenant(tables: TablesDB, tenant_id: str,
                     progress: Callable[[str], None] | None = None) -> ProvisionReport:
    """Create or upgrade ``tenant_<id>`` to the current tenant schema."""
    return provision(tables, tenant_database_id(tenant_id), f"tenant {tenant_id}", TENANT_SCHEMA, progress)


def _ensure_database(tables: TablesDB, database_id: str, name: str) -> bool:
    try:
        tables.create(database_id, name)
        return True
    except AppwriteException as error:
        if error.code == 409:
            return False
        raise


def _column_keys(tables: TablesDB, database_id: str, table_id: str) -> dict[str, str]:
    columns = tables.list_columns(database_id, table_id, LIST_ALL).columns
    return {_attr(column, "key"): _attr(column, "status") for column in columns}


def _required_keys(tables: TablesDB, database_id: str, table_id: str) -> set[str]:
    columns = tables.list_columns(database_id, table_id, LIST_ALL).columns
    return {_attr(column, "key") for column in columns if _attr(column, "required") == "True"}


def _relax(tables: TablesDB, db: str, table: str, c: Column) -> bool:
    """Make an existing required column optional, as declared (an upgrade of an older schema)."""
    with warnings.catch_warnings(record=True):  # update_string_column is deprecated in SDK 27, see below
        if c.type == "integer":
            tables.update_integer_column(db, table, c.key, required=False, default=c.default, min=c.min, max=c.max)
        elif c.type == "string":
            tables.update_string_column(db, table, c.key, required=False, default=c.default, size=c.size)
        else:
            return False
    return True


def _attr(model: object, name: str) -> str:
    value = getattr(model, name, None)
    if value is None and isinstance(model, dict):
        value = model.get(name)
    return str(getattr(value, "value", value))  # statuses are enums in SDK 27 models


def _create_column(tables: TablesDB, db: str, table: str, c: Column) -> None:
    # SDK 27 marks ``create_string_column`` deprecated (Appwrite 1.9 adds varchar/text columns), but the
    # CLI 12 ``appwrite.json`` format and self-hosted 1.8/1.9 servers still speak ``string``.
    # The SDK forces its deprecation filter to "always", so the warnings are recorded and dropped.
    with warnings.catch_warnings(record=True):
        _create_column_call(tables, db, table, c)


def _create_column_call(tables: TablesDB, db: str, table: str, c: Column) -> None:
    common: dict[str, Any] = {"database_id": db, "table_id": table, "key": c.key, "required": c.required}
    default = None if c.required else c.default
    if c.type == "string":
        tables.create_string_column(**common, size=c.size or 255, default=default, array=c.array or None)
    elif c.type == "integer":
        tables.create_integer_column(**common, min=c.min, max=c.max, default=default, array=c.array or None)
    elif c.type == "float":
        tables.create_float_column(**common, min=c.min, max=c.max, default=default, array=c.array or None)
    elif c.type == "boolean":
        tables.create_boolean_column(**common, default=default, array=c.array or None)
    elif c.type == "datetime":
        tables.create_datetime_column(**common, default=default, array=c.array or None)
    elif c.type == "enum":
        tables.create_enum_column(**common, elements=list(c.elements), default=default, array=c.array or None)
    elif c.type == "email":
        tables.create_email_column(**common, default=default, array=c.array or None)
    elif c.type == "url":
        tables.create_url_column(**common, default=default, array=c.array or None)
    else:  # pragma: no cover - the Column type is a Literal
        raise ValueError(f"unsupported column type {c.type}")


def _wait_for_columns(tables: TablesDB, database_id: str, table: Table) -> None:
    deadline = time.monotonic() + COLUMN_WAIT_SECONDS
    delay = 0.05
    while True:
        statuses = _column_keys(tables, database_id, table.id)
        pending = [key for key, status in statuses.items() if status != "available"]
        failed = [key for key, status in statuses.items() if status in {"failed", "stuck"}]
        if failed:
            raise RuntimeError(f"{database_id}.{table.id}: columns failed: {failed}")
        if not pending:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{database_id}.{table.id}: columns still processing: {pending}")
        time.sleep(delay)
        delay = min(delay * 2, 1.0)


def _create_index(tables: TablesDB, db: str, table: str, index: Index) -> None:
    tables.create_index(db, table, index.key, TablesDBIndexType(index.type), list(index.columns),
                        orders=[OrderBy(order) for order in index.orders] or None)
