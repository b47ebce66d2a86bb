"""Each Appwrite database in its own SQLite file: rows land there, a transaction over two databases is
still all or nothing, deleting a database deletes its file, and the connection pool stays bounded."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from local_appwrite import LocalAppwrite, StackSettings
from local_appwrite.storage import MAX_IDLE_CONNECTIONS
from tests.conftest import free_port, make_client

COLUMNS = [{"key": "name", "type": "string", "size": 64, "required": True},
           {"key": "count", "type": "integer", "min": 0, "max": 10, "default": 0}]


@pytest.fixture(scope="module")
def lstack():
    with LocalAppwrite(StackSettings.for_tests(free_port())) as running:
        yield running


@pytest.fixture(scope="module")
def tables(lstack):
    return TablesDB(make_client(lstack))


def files(lstack) -> set[str]:
    return {p.name for p in lstack.storage.databases_dir.glob("*.sqlite3")}


def sqlite_tables(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def make_database(tables, database_id: str) -> None:
    tables.create(database_id, database_id)
    tables.create_table(database_id, "things", "Things", columns=COLUMNS)


def test_a_database_rows_live_in_its_own_file_not_in_the_stack_file(lstack, tables):
    before = files(lstack)
    make_database(tables, "own-a")
    tables.create_row("own-a", "things", "r1", {"name": "x"})
    (new,) = files(lstack) - before
    path = lstack.storage.databases_dir / new
    physical = {name for name in sqlite_tables(path) if name.startswith("t_")}
    assert len(physical) == 1
    with sqlite3.connect(path) as conn:
        assert conn.execute(f"SELECT _uid, name FROM {physical.pop()}").fetchall() == [("r1", "x")]
    assert not {name for name in sqlite_tables(lstack.storage.path) if name.startswith("t_")}


def test_deleting_a_database_deletes_its_file_and_the_id_starts_afresh(lstack, tables):
    before = files(lstack)
    make_database(tables, "gone")
    tables.create_row("gone", "things", "r1", {"name": "x"})
    (made,) = files(lstack) - before
    tables.delete("gone")
    assert made not in files(lstack)
    with pytest.raises(AppwriteException) as missing:
        tables.get_row("gone", "things", "r1")
    assert missing.value.code == 404
    make_database(tables, "gone")
    assert tables.list_rows("gone", "things").total == 0
    assert made not in files(lstack)  # a new file number: the old file is never reopened


def test_a_transaction_over_two_databases_commits_both_or_neither(lstack, tables):
    make_database(tables, "pair-a")
    make_database(tables, "pair-b")
    tables.create_row("pair-b", "things", "taken", {"name": "t"})
    txn = tables.create_transaction().id
    tables.create_operations(txn, [
        {"action": "create", "databaseId": "pair-a", "tableId": "things", "rowId": "a1", "data": {"name": "a"}},
        {"action": "create", "databaseId": "pair-b", "tableId": "things", "rowId": "b1", "data": {"name": "b"}},
        {"action": "increment", "databaseId": "pair-b", "tableId": "things", "rowId": "taken",
         "data": {"column": "count", "value": 1}},
    ])
    tables.update_row("pair-b", "things", "taken", {"count": 10})  # the increment now passes its maximum
    with pytest.raises(AppwriteException) as failed:
        tables.update_transaction(txn, commit=True)
    assert failed.value.code in (400, 409)
    assert tables.list_rows("pair-a", "things").total == 0
    assert tables.list_rows("pair-b", "things").total == 1

    txn = tables.create_transaction().id
    tables.create_operations(txn, [
        {"action": "create", "databaseId": "pair-a", "tableId": "things", "rowId": "a1", "data": {"name": "a"}},
        {"action": "create", "databaseId": "pair-b", "tableId": "things", "rowId": "b1", "data": {"name": "b"}},
    ])
    assert tables.get_row("pair-a", "things", "a1", transaction_id=txn).data["name"] == "a"
    tables.update_transaction(txn, commit=True)
    assert tables.get_row("pair-a", "things", "a1").data["name"] == "a"
    assert tables.get_row("pair-b", "things", "b1").data["name"] == "b"


def test_a_schema_change_is_seen_by_pooled_connections(lstack, tables):
    make_database(tables, "evolve")
    tables.create_row("evolve", "things", "r1", {"name": "x"})
    assert "extra" not in tables.get_row("evolve", "things", "r1").data
    tables.create_varchar_column("evolve", "things", "extra", 16, False, "dflt")
    tables.create_row("evolve", "things", "r2", {"name": "y", "extra": "e"})
    assert tables.get_row("evolve", "things", "r2").data["extra"] == "e"


def test_the_pool_stays_bounded_over_many_databases(lstack, tables):
    for n in range(12):
        make_database(tables, f"many-{n}")

    def reader(n: int) -> None:
        for _ in range(3):
            tables.list_rows(f"many-{n}", "things")

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = lstack.storage.pool_stats()
    assert 0 < stats["idle"] <= MAX_IDLE_CONNECTIONS
