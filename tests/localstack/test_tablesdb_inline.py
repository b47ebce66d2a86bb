"""``create_table`` with ``columns`` and ``indexes`` inline (Appwrite 1.9): one call, one SQL ``CREATE TABLE``,
all or nothing."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from local_appwrite import LocalAppwrite, StackSettings
from tests.conftest import free_port, make_client

COLUMNS = [
    {"key": "name", "type": "string", "size": 64, "required": True},
    {"key": "email", "type": "string", "format": "email", "size": 254, "required": False},
    {"key": "kind", "type": "string", "format": "enum", "size": 255, "elements": ["a", "b"], "default": "a"},
    {"key": "count", "type": "integer", "min": 0, "max": 10, "default": 0},
    {"key": "ratio", "type": "double"},
    {"key": "active", "type": "boolean", "default": True},
    {"key": "at", "type": "datetime"},
]
INDEXES = [{"key": "uniq_name", "type": "unique", "attributes": ["name"]},
           {"key": "idx_kind_at", "type": "key", "attributes": ["kind", "at"], "orders": ["ASC", "DESC"]}]


@pytest.fixture(scope="module")
def lstack():
    with LocalAppwrite(StackSettings.for_tests(free_port())) as running:
        yield running


@pytest.fixture(scope="module")
def tables(lstack):
    tables = TablesDB(make_client(lstack))
    tables.create("inline", "Inline")
    return tables


def traced(stack, statements: list[str]):
    """Record the SQL the stack's writes run while the ``with`` block lasts."""
    original = stack.storage.write

    @contextmanager
    def write():
        with original() as conn:
            conn.set_trace_callback(statements.append)
            try:
                yield conn
            finally:
                conn.set_trace_callback(None)

    return write


def test_a_table_with_its_columns_and_indexes_is_one_create_table(lstack, tables, monkeypatch):
    statements: list[str] = []
    write = traced(lstack, statements)
    monkeypatch.setattr(lstack.storage, "write", write)
    table = tables.create_table("inline", "things", "Things", columns=COLUMNS, indexes=INDEXES)
    monkeypatch.undo()
    assert [c.key for c in table.columns] == [c["key"] for c in COLUMNS]
    assert [i.key for i in table.indexes] == ["uniq_name", "idx_kind_at"]
    assert not [s for s in statements if s.upper().startswith("ALTER TABLE")], statements
    assert len([s for s in statements if s.upper().startswith("CREATE TABLE")]) == 1
    row = tables.create_row("inline", "things", "r1", {"name": "x"})
    assert (row.data["kind"], row.data["count"], row.data["active"]) == ("a", 0, True)
    with pytest.raises(AppwriteException) as duplicate:
        tables.create_row("inline", "things", "r2", {"name": "x"})
    assert duplicate.value.code == 409


def test_a_bad_definition_creates_nothing(tables):
    bad = [*COLUMNS[:2], {"key": "broken", "type": "no-such-type"}]
    with pytest.raises(AppwriteException) as error:
        tables.create_table("inline", "half", "Half", columns=bad)
    assert error.value.code == 400
    with pytest.raises(AppwriteException) as missing:
        tables.get_table("inline", "half")
    assert missing.value.code == 404
    with pytest.raises(AppwriteException) as twice:
        tables.create_table("inline", "dup", "Dup", columns=[COLUMNS[0], COLUMNS[0]])
    assert twice.value.code == 400
    with pytest.raises(AppwriteException) as unknown:
        tables.create_table("inline", "idx", "Idx", columns=COLUMNS[:1],
                            indexes=[{"key": "i", "type": "key", "attributes": ["nope"]}])
    assert unknown.value.code == 400
    with pytest.raises(AppwriteException):
        tables.get_table("inline", "idx")
