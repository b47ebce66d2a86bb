"""The per-file connection pool of the local stack's storage: bounded over every file, least recently used
file closed first, a dropped file's connections never reused, and its file gone."""

from __future__ import annotations

import sqlite3

import pytest

from local_appwrite import storage
from local_appwrite.storage import FileMissing, Storage


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setattr(storage, "MAX_IDLE_CONNECTIONS", 3)
    made = Storage(tmp_path / "stack.sqlite3")
    yield made
    made.close()


def database(store: Storage, n: int):
    path = store.databases_dir / f"{n}.sqlite3"
    store.create_file(path)
    with store.write_file(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
    return path


def test_past_the_bound_the_least_recently_used_file_is_closed_first(store):
    paths = [database(store, n) for n in range(4)]
    held = {}
    for path in paths:  # one connection of each file, given back in this order
        with store.read_file(path) as conn:
            held[path] = conn
    assert store.pool_stats()["idle"] == 3
    with pytest.raises(sqlite3.ProgrammingError):  # the oldest file's connection was closed
        held[paths[0]].execute("SELECT 1")
    with store.read_file(paths[3]) as conn:
        assert conn is held[paths[3]]  # the newest is reused


def test_a_dropped_file_is_deleted_and_never_reopened(store):
    path = database(store, 7)
    with store.read_file(path) as conn:
        conn.execute("SELECT * FROM t").fetchall()
    store.drop_file(path)
    assert not path.exists()
    with pytest.raises(FileMissing), store.read_file(path):
        pass
    assert not path.exists()  # opening it did not create an empty one


def test_a_write_on_the_stack_file_commits_attached_files_with_it(store):
    path = database(store, 9)
    with pytest.raises(RuntimeError), store.write() as conn:
        store.attach(conn, "d9", path)
        conn.execute("INSERT INTO t VALUES (1)")
        raise RuntimeError("rolled back together")
    with store.write() as conn:
        store.attach(conn, "d9", path)
        conn.execute("INSERT INTO t VALUES (2)")
    with store.read_file(path) as conn:
        assert [tuple(row) for row in conn.execute("SELECT x FROM t")] == [(2,)]
    assert store.connection().execute("PRAGMA database_list").fetchall()[-1][1] == "main"  # detached again
