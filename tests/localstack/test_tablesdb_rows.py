"""TablesDB rows: CRUD, validation, uniqueness, bulk calls, events and persistence."""

import threading
import time

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from local_appwrite import LocalAppwrite, StackSettings
from tests.conftest import free_port, make_client


def build_people(tables, database_id):
    tables.create(database_id, "Rows tests")
    tables.create_table(database_id, "people", "People")
    tables.create_varchar_column(database_id, "people", "name", 10, True)
    tables.create_integer_column(database_id, "people", "age", False, min=0, max=150)
    tables.create_float_column(database_id, "people", "score", False)
    tables.create_boolean_column(database_id, "people", "active", False, default=True)
    tables.create_datetime_column(database_id, "people", "born", False)
    tables.create_enum_column(database_id, "people", "plan", ["free", "pro"], False)
    tables.create_email_column(database_id, "people", "email", False)
    tables.create_url_column(database_id, "people", "site", False)
    tables.create_varchar_column(database_id, "people", "tags", 10, False, array=True)
    tables.create_index(database_id, "people", "u_email", "unique", ["email"])


@pytest.fixture
def tables(client):
    return TablesDB(client)


@pytest.fixture
def db(tables):
    database_id = ID.unique()
    build_people(tables, database_id)
    yield database_id
    tables.delete(database_id)


def assert_error(call, code, type_):
    with pytest.raises(AppwriteException) as error:
        call()
    assert (error.value.code, error.value.type) == (code, type_), error.value.message
    return error.value


def test_create_get_update_upsert_delete(tables, db):
    row = tables.create_row(db, "people", ID.unique(), {"name": "Ana", "age": 30, "born": "1995-03-04T10:00:00Z",
                                                        "tags": ["a", "b"]}, permissions=['read("any")'])
    assert len(row.id) == 20 and row.sequence.isdigit() and row.tableid == "people" and row.databaseid == db
    assert row.permissions == ['read("any")']
    assert row.data["active"] is True and row.data["born"] == "1995-03-04T10:00:00.000+00:00"
    assert row.data["tags"] == ["a", "b"] and row.data["email"] is None
    got = tables.get_row(db, "people", row.id)
    assert got.data == row.data and got.createdat == row.createdat
    updated = tables.update_row(db, "people", row.id, {"age": 31})
    assert updated.data["age"] == 31 and updated.data["name"] == "Ana" and updated.updatedat >= row.updatedat
    upserted = tables.upsert_row(db, "people", "fixed", {"name": "Bia"})
    assert upserted.id == "fixed" and upserted.data["name"] == "Bia"
    assert tables.upsert_row(db, "people", "fixed", {"plan": "pro"}).data == {**upserted.data, "plan": "pro"}
    assert tables.get_row(db, "people", row.id, queries=[Query.select(["name"])]).data == {"name": "Ana"}
    tables.delete_row(db, "people", row.id)
    assert_error(lambda: tables.get_row(db, "people", row.id), 404, "row_not_found")
    assert_error(lambda: tables.update_row(db, "people", row.id, {"age": 1}), 404, "row_not_found")
    assert_error(lambda: tables.delete_row(db, "people", row.id), 404, "row_not_found")
    assert_error(lambda: tables.get_row(db, "nope", "x"), 404, "table_not_found")
    assert_error(lambda: tables.get_row("nope_db", "people", "x"), 404, "database_not_found")


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"name": "x", "nickname": "y"}, 'Unknown attribute: "nickname"'),
        ({"age": 3}, 'Missing required attribute "name"'),
        ({"name": 5}, "must be a valid string"),
        ({"name": "much too long"}, "no longer than 10 chars"),
        ({"name": "x", "age": 151}, "between 0 and 150"),
        ({"name": "x", "age": 1.5}, "valid integer"),
        ({"name": "x", "active": "yes"}, "valid boolean"),
        ({"name": "x", "email": "not-an-email"}, "valid email"),
        ({"name": "x", "site": "not a url"}, "valid URL"),
        ({"name": "x", "plan": "gold"}, "one of (free, pro)"),
        ({"name": "x", "born": "yesterday"}, "valid date"),
        ({"name": "x", "tags": "a"}, "must be an array"),
    ],
)
def test_invalid_rows_are_400_row_invalid_structure(tables, db, data, fragment):
    error = assert_error(lambda: tables.create_row(db, "people", ID.unique(), data), 400, "row_invalid_structure")
    assert fragment in error.message


def test_update_validates_and_keeps_required(tables, db):
    tables.create_row(db, "people", "u1", {"name": "Ana"})
    assert_error(lambda: tables.update_row(db, "people", "u1", {"name": None}), 400, "row_invalid_structure")
    assert_error(lambda: tables.update_row(db, "people", "u1", {"age": -1}), 400, "row_invalid_structure")


def test_duplicates_are_409(tables, db):
    tables.create_row(db, "people", "dup", {"name": "A", "email": "a@b.co"})
    assert_error(lambda: tables.create_row(db, "people", "dup", {"name": "B"}), 409, "row_already_exists")
    assert_error(lambda: tables.create_row(db, "people", "other", {"name": "B", "email": "a@b.co"}),
                 409, "row_unique_constraint_violation")
    tables.create_row(db, "people", "x1", {"name": "C", "email": "c@b.co"})
    assert_error(lambda: tables.update_row(db, "people", "dup", {"email": "c@b.co"}),
                 409, "row_unique_constraint_violation")


def test_unique_index_holds_under_concurrency(stack, db):
    results = []

    def create(i):
        try:
            TablesDB(make_client(stack)).create_row(db, "people", f"c{i}", {"name": "Same", "email": "same@x.io"})
            results.append("ok")
        except AppwriteException as error:
            results.append(error.type)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ok"] + ["row_unique_constraint_violation"] * 9


def test_bulk_calls(tables, db):
    created = tables.create_rows(db, "people", [{"$id": "b1", "name": "One", "age": 1},
                                                {"$id": "b2", "name": "Two", "age": 2}, {"name": "Three", "age": 3}])
    assert created.total == 3 and [r.id for r in created.rows][:2] == ["b1", "b2"]
    assert_error(lambda: tables.create_rows(db, "people", [{"$id": "b4", "name": "Four"}, {"$id": "b1", "name": "x"}]),
                 409, "row_already_exists")
    assert_error(lambda: tables.get_row(db, "people", "b4"), 404, "row_not_found")  # all or nothing
    updated = tables.update_rows(db, "people", {"plan": "pro"}, [Query.less_than("age", 3)])
    assert sorted(r.id for r in updated.rows) == ["b1", "b2"] and all(r.data["plan"] == "pro" for r in updated.rows)
    upserted = tables.upsert_rows(db, "people", [{"$id": "b1", "name": "Uno"}, {"$id": "b9", "name": "Nine"}])
    assert [r.data["name"] for r in upserted.rows] == ["Uno", "Nine"]
    deleted = tables.delete_rows(db, "people", [Query.equal("plan", ["pro"])])
    assert sorted(r.id for r in deleted.rows) == ["b1", "b2"]
    assert tables.list_rows(db, "people").total == 2


def test_row_events_are_published_after_commit(stack, tables, db):
    seen = []
    stack.events.subscribe(lambda event: seen.append(event) if db in event.names[0] else None)
    row = tables.create_row(db, "people", "ev1", {"name": "Eve"})
    tables.update_row(db, "people", "ev1", {"age": 5})
    tables.delete_row(db, "people", "ev1")
    deadline = time.time() + 2
    while len(seen) < 3 and time.time() < deadline:
        time.sleep(0.01)
    by_action = {event.names[0].rsplit(".", 1)[1]: event for event in seen}
    assert by_action["create"].names == (
        f"databases.{db}.collections.people.documents.ev1.create",
        f"databases.{db}.tables.people.rows.ev1.create",
        f"tablesdb.{db}.tables.people.rows.ev1.create",
    )
    payload = by_action["create"].payload
    assert (payload["$id"], payload["$sequence"], payload["name"]) == ("ev1", row.sequence, "Eve")
    assert by_action["update"].names[0] == f"databases.{db}.tables.people.rows.ev1.update"
    assert by_action["update"].payload["age"] == 5
    assert by_action["delete"].names[0] == f"databases.{db}.tables.people.rows.ev1.delete"


def test_data_survives_a_restart():
    settings = StackSettings.for_tests(free_port())
    with LocalAppwrite(settings) as first:
        tables = TablesDB(make_client(first))
        build_people(tables, "persist")
        tables.create_row("persist", "people", "kept", {"name": "Kept", "tags": ["x"]})
    again = StackSettings.for_tests(free_port(), data_dir=settings.data_dir)
    with LocalAppwrite(again) as second:
        tables = TablesDB(make_client(second))
        assert tables.get_row("persist", "people", "kept").data["tags"] == ["x"]
        assert tables.get_column("persist", "people", "email").status.value == "available"
        tables.create_row("persist", "people", "k2", {"name": "K", "email": "a@a.io"})
        assert_error(lambda: tables.create_row("persist", "people", "k3", {"name": "K", "email": "a@a.io"}),
                     409, "row_unique_constraint_violation")  # the unique index came back too
        assert int(tables.create_row("persist", "people", "k4", {"name": "K"}).sequence) == 3
