"""The declarative schema on the local stack: provisioning tenant databases, re-running it, upgrading
them, and the core database entries of appwrite.json."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.schema import TENANT_SCHEMA, DatabaseSchema, Table, provision, provision_core
from bigtech.schema.appwrite_json import core_entries, dump_project, merge_core_entries
from bigtech.schema.model import integer, key_index, string
from tests.conftest import make_client
from tests.support.actors import unique_suffix

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def tables(stack) -> TablesDB:
    return TablesDB(make_client(stack))


def described(tables: TablesDB, database_id: str) -> dict:
    """What the stack has: {table: ({column: status}, {index keys})}."""
    found = {}
    for table in tables.list_tables(database_id, [Query.limit(100)]).tables:
        columns = {c.key: str(c.status.value) for c in tables.list_columns(database_id, table.id).columns}
        indexes = {i.key for i in tables.list_indexes(database_id, table.id).indexes}
        found[table.id] = (columns, indexes)
    return found


def test_two_tenant_databases_get_every_table_and_rerunning_changes_nothing(tables):
    for number in range(2):
        database_id = f"tenant_schema{number}-{unique_suffix()}"
        first = provision(tables, database_id, database_id, TENANT_SCHEMA)
        assert first.database_created and first.changed
        assert sorted(first.tables_created) == sorted(t.id for t in TENANT_SCHEMA.tables)
        have = described(tables, database_id)
        for table in TENANT_SCHEMA.tables:
            columns, indexes = have[table.id]
            assert set(columns) == {c.key for c in table.columns}
            assert set(columns.values()) == {"available"}
            assert indexes == {i.key for i in table.indexes}
        again = provision(tables, database_id, database_id, TENANT_SCHEMA)
        assert not again.changed
        assert described(tables, database_id) == have


def test_a_newer_schema_adds_only_what_is_new(tables):
    database_id = f"tenant_upgrade-{unique_suffix()}"
    old = DatabaseSchema((Table("things", "Things", (string("name", 64, required=True),)),))
    provision(tables, database_id, database_id, old)
    things = old.tables[0]
    newer = DatabaseSchema((
        replace(things, columns=(*things.columns, integer("count", default=0)), indexes=(key_index("count"),)),
        Table("extras", "Extras", (string("note", 32),)),
    ))
    report = provision(tables, database_id, database_id, newer)
    assert not report.database_created
    assert report.tables_created == ["extras"]
    assert report.columns_created == ["things.count", "extras.note"]
    assert report.indexes_created == ["things.idx_count"]
    assert not provision(tables, database_id, database_id, newer).changed


def test_a_column_declared_optional_is_relaxed_on_upgrade(tables):
    """An older database whose column was required (audit.seq before entries were written unsealed)."""
    database_id = f"tenant_relax-{unique_suffix()}"
    old = DatabaseSchema((Table("things", "Things", (integer("seq", required=True, min=1),
                                                     string("hash", 64, required=True))),))
    provision(tables, database_id, database_id, old)
    newer = DatabaseSchema((Table("things", "Things", (integer("seq", min=1), string("hash", 64))),))
    report = provision(tables, database_id, database_id, newer)
    assert report.columns_relaxed == ["things.seq", "things.hash"] and report.columns_created == []
    tables.create_row(database_id, "things", "unsealed", {"seq": None, "hash": None})
    assert not provision(tables, database_id, database_id, newer).changed


def test_core_database_provisions_and_matches_its_declaration(tables):
    provision_core(tables)
    assert not provision_core(tables).changed
    entries = core_entries()
    have = described(tables, "core")
    for table in entries["tables"]:
        columns, indexes = have[table["$id"]]
        assert set(columns) == {c["key"] for c in table["columns"]}
        assert indexes == {i["key"] for i in table["indexes"]}


def test_appwrite_json_carries_no_database_section():
    """`appwrite push tables` deletes every database the file does not list (every tenant's) and recreates
    string columns without an explicit `encrypt`: the project file must never carry tables (issue 10)."""
    project = json.loads((REPO_ROOT / "appwrite.json").read_text(encoding="utf-8"))
    assert not {"tablesDB", "tables", "databases", "collections", "endpoint", "projectId"} & set(project)
    assert all(column["encrypt"] is False for table in core_entries()["tables"] for column in table["columns"])


def test_merging_core_entries_keeps_everything_else():
    project = {"projectId": "p", "functions": [{"$id": "f"}], "tablesDB": [{"$id": "other"}],
               "tables": [{"$id": "x", "databaseId": "other"}, {"$id": "stale", "databaseId": "core"}]}
    merged = merge_core_entries(project)
    assert merged["functions"] == [{"$id": "f"}]
    assert {"$id": "other"} in merged["tablesDB"]
    assert {"$id": "x", "databaseId": "other"} in merged["tables"]
    assert "stale" not in {t["$id"] for t in merged["tables"]}
    assert json.loads(dump_project(merged)) == merged
