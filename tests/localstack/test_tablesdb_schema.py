"""TablesDB databases, tables, columns and indexes, through the SDK."""

import time

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB


@pytest.fixture
def tables(client):
    return TablesDB(client)


@pytest.fixture
def database(tables):
    database_id = ID.unique()
    tables.create(database_id, "Schema tests")
    yield database_id
    tables.delete(database_id)


def wait_available(tables, database_id, table_id, key):
    for _ in range(50):
        column = tables.get_column(database_id, table_id, key)
        if column.status.value == "available":
            return column
        time.sleep(0.02)
    raise AssertionError(f"column {key} never became available")


def test_database_crud_and_list(tables):
    created = tables.create("schema_db_crud", "First")
    assert created.id == "schema_db_crud" and created.type.value == "tablesdb" and created.enabled
    assert tables.get("schema_db_crud").name == "First"
    assert tables.update("schema_db_crud", name="Renamed").name == "Renamed"
    listed = tables.list(queries=[Query.equal("name", ["Renamed"])])
    assert [d.id for d in listed.databases] == ["schema_db_crud"] and listed.total == 1
    assert tables.list(search="renam").total >= 1
    assert tables.list(total=False).total == 0
    with pytest.raises(AppwriteException) as duplicate:
        tables.create("schema_db_crud", "Again")
    assert duplicate.value.code == 409
    tables.delete("schema_db_crud")
    with pytest.raises(AppwriteException) as missing:
        tables.get("schema_db_crud")
    assert (missing.value.code, missing.value.type) == (404, "database_not_found")


def test_table_crud(tables, database):
    table = tables.create_table(database, "orders", "Orders", permissions=['read("any")'], row_security=True)
    assert (table.id, table.databaseid, table.rowsecurity, table.permissions) == (
        "orders", database, True, ['read("any")'])
    assert table.columns == [] and table.indexes == []
    assert tables.update_table(database, "orders", name="Pedidos", enabled=False).name == "Pedidos"
    got = tables.get_table(database, "orders")
    assert (got.name, got.enabled, got.rowsecurity) == ("Pedidos", False, True)
    assert [t.id for t in tables.list_tables(database).tables] == ["orders"]
    with pytest.raises(AppwriteException) as duplicate:
        tables.create_table(database, "orders", "Again")
    assert (duplicate.value.code, duplicate.value.type) == (409, "table_already_exists")
    tables.delete_table(database, "orders")
    with pytest.raises(AppwriteException) as missing:
        tables.get_table(database, "orders")
    assert (missing.value.code, missing.value.type) == (404, "table_not_found")
    with pytest.raises(AppwriteException) as no_db:
        tables.get_table("no_such_db", "orders")
    assert no_db.value.type == "database_not_found"


def test_every_column_type_and_status(tables, database):
    tables.create_table(database, "all", "All types")
    created = [
        tables.create_varchar_column(database, "all", "name", 40, True),
        tables.create_integer_column(database, "all", "age", False, min=0, max=150, default=18),
        tables.create_float_column(database, "all", "score", False, min=0.0, max=10.0),
        tables.create_boolean_column(database, "all", "active", False, default=True),
        tables.create_datetime_column(database, "all", "born", False),
        tables.create_enum_column(database, "all", "plan", ["free", "pro"], False, default="free"),
        tables.create_email_column(database, "all", "email", False),
        tables.create_url_column(database, "all", "site", False),
        tables.create_varchar_column(database, "all", "tags", 10, False, array=True),
    ]
    assert {c.status.value for c in created} == {"processing"}
    email = wait_available(tables, database, "all", "email")
    assert type(email).__name__ == "ColumnEmail" and email.format == "email"
    assert type(wait_available(tables, database, "all", "plan")).__name__ == "ColumnEnum"
    assert type(wait_available(tables, database, "all", "site")).__name__ == "ColumnUrl"
    assert type(wait_available(tables, database, "all", "score")).__name__ == "ColumnFloat"
    age = wait_available(tables, database, "all", "age")
    assert (age.min, age.max, age.default) == (0, 150, 18)
    listed = tables.list_columns(database, "all")
    assert listed.total == 9 and [c.key for c in listed.columns][:2] == ["name", "age"]
    table = tables.get_table(database, "all")
    assert len(table.columns) == 9
    with pytest.raises(AppwriteException) as duplicate:
        tables.create_boolean_column(database, "all", "Active", False)
    assert (duplicate.value.code, duplicate.value.type) == (409, "column_already_exists")


def test_column_defaults_are_checked(tables, database):
    tables.create_table(database, "defaults", "Defaults")
    with pytest.raises(AppwriteException) as required_default:
        tables.create_integer_column(database, "defaults", "n", True, default=3)
    assert required_default.value.code == 400
    with pytest.raises(AppwriteException) as out_of_range:
        tables.create_integer_column(database, "defaults", "m", False, min=0, max=5, default=9)
    assert out_of_range.value.code == 400
    with pytest.raises(AppwriteException) as bad_enum:
        tables.create_enum_column(database, "defaults", "e", ["a"], False, default="b")
    assert bad_enum.value.code == 400


def test_update_and_delete_column(tables, database):
    tables.create_table(database, "evolve", "Evolve")
    with pytest.warns(DeprecationWarning):  # SDK 27 deprecates string columns; Bigtech's schema still uses them
        tables.create_string_column(database, "evolve", "title", 10, False)
    tables.create_row(database, "evolve", "r1", {"title": "hello"})
    with pytest.warns(DeprecationWarning):
        updated = tables.update_string_column(database, "evolve", "title", False, "untitled", size=20)
    assert (updated.size, updated.default) == (20, "untitled")
    assert tables.create_row(database, "evolve", "r2", {}).data["title"] == "untitled"
    tables.delete_column(database, "evolve", "title")
    with pytest.raises(AppwriteException) as gone:
        tables.get_column(database, "evolve", "title")
    with pytest.warns(DeprecationWarning):
        tables.create_string_column(database, "evolve", "tiny", 3, False)
    with pytest.raises(AppwriteException) as too_long:
        tables.create_row(database, "evolve", "r3", {"tiny": "four"})
    assert (too_long.value.code, too_long.value.type) == (400, "row_invalid_structure")
    assert (gone.value.code, gone.value.type) == (404, "column_not_found")
    assert "title" not in tables.get_row(database, "evolve", "r1").data


def test_indexes(tables, database):
    tables.create_table(database, "idx", "Indexes")
    tables.create_varchar_column(database, "idx", "code", 10, False)
    tables.create_varchar_column(database, "idx", "body", 100, False)
    created = tables.create_index(database, "idx", "by_code", "unique", ["code"])
    assert created.status == "processing" and created.columns == ["code"]
    assert tables.get_index(database, "idx", "by_code").status == "available"
    tables.create_index(database, "idx", "body_text", "fulltext", ["body"])
    tables.create_index(database, "idx", "recent", "key", ["$createdAt"], orders=["DESC"])
    assert [i.key for i in tables.list_indexes(database, "idx").indexes] == ["by_code", "body_text", "recent"]
    with pytest.raises(AppwriteException) as unknown:
        tables.create_index(database, "idx", "bad", "key", ["nope"])
    assert unknown.value.code == 400
    tables.delete_index(database, "idx", "by_code")
    with pytest.raises(AppwriteException) as gone:
        tables.get_index(database, "idx", "by_code")
    assert (gone.value.code, gone.value.type) == (404, "index_not_found")


def test_unique_index_over_duplicates_ends_failed(tables, database):
    tables.create_table(database, "dups", "Dups")
    tables.create_varchar_column(database, "dups", "code", 10, False)
    tables.create_row(database, "dups", "a", {"code": "X"})
    tables.create_row(database, "dups", "b", {"code": "X"})
    assert tables.create_index(database, "dups", "u", "unique", ["code"]).status == "processing"
    index = tables.get_index(database, "dups", "u")
    assert index.status == "failed" and index.error
    tables.create_row(database, "dups", "c", {"code": "X"})  # no index was built


def test_create_table_with_columns_and_indexes(tables, database):
    table = tables.create_table(
        database, "inline", "Inline",
        columns=[{"key": "sku", "type": "string", "size": 16, "required": True},
                 {"key": "qty", "type": "integer", "required": False, "min": 0}],
        indexes=[{"key": "u_sku", "type": "unique", "attributes": ["sku"]}],
    )
    assert [c.key for c in table.columns] == ["sku", "qty"] and table.indexes[0].key == "u_sku"
    tables.create_row(database, "inline", "one", {"sku": "A1", "qty": 1})
    with pytest.raises(AppwriteException) as clash:
        tables.create_row(database, "inline", "two", {"sku": "A1"})
    assert clash.value.code == 409


COLUMN_CALLS = [
    # (create, update) for every column route: both must answer in the shape the SDK model parses
    (lambda t, d: t.create_varchar_column(d, "kinds", "c_varchar", 8, False),
     lambda t, d: t.update_varchar_column(d, "kinds", "c_varchar", False, "v", size=9)),
    (lambda t, d: t.create_text_column(d, "kinds", "c_text", False),
     lambda t, d: t.update_text_column(d, "kinds", "c_text", False, "t")),
    (lambda t, d: t.create_mediumtext_column(d, "kinds", "c_medium", False),
     lambda t, d: t.update_mediumtext_column(d, "kinds", "c_medium", False, "m")),
    (lambda t, d: t.create_longtext_column(d, "kinds", "c_long", False),
     lambda t, d: t.update_longtext_column(d, "kinds", "c_long", False, "l")),
    (lambda t, d: t.create_integer_column(d, "kinds", "c_int", False),
     lambda t, d: t.update_integer_column(d, "kinds", "c_int", False, 5, min=0, max=10)),
    (lambda t, d: t.create_float_column(d, "kinds", "c_float", False),
     lambda t, d: t.update_float_column(d, "kinds", "c_float", False, 0.5, min=0, max=1)),
    (lambda t, d: t.create_boolean_column(d, "kinds", "c_bool", False),
     lambda t, d: t.update_boolean_column(d, "kinds", "c_bool", False, True)),
    (lambda t, d: t.create_datetime_column(d, "kinds", "c_when", False),
     lambda t, d: t.update_datetime_column(d, "kinds", "c_when", False, "2030-01-01T00:00:00Z")),
    (lambda t, d: t.create_email_column(d, "kinds", "c_email", False),
     lambda t, d: t.update_email_column(d, "kinds", "c_email", False, "a@b.co")),
    (lambda t, d: t.create_url_column(d, "kinds", "c_url", False),
     lambda t, d: t.update_url_column(d, "kinds", "c_url", False, "https://x.io")),
    (lambda t, d: t.create_ip_column(d, "kinds", "c_ip", False),
     lambda t, d: t.update_ip_column(d, "kinds", "c_ip", False, "10.0.0.1")),
    (lambda t, d: t.create_enum_column(d, "kinds", "c_enum", ["a", "b"], False),
     lambda t, d: t.update_enum_column(d, "kinds", "c_enum", ["a", "b", "c"], False, "c")),
]


def test_every_column_route_creates_and_updates(tables, database):
    tables.create_table(database, "kinds", "Kinds")
    with pytest.warns(DeprecationWarning):
        tables.create_string_column(database, "kinds", "c_string", 8, False)
    with pytest.warns(DeprecationWarning):
        assert tables.update_string_column(database, "kinds", "c_string", False, "s").default == "s"
    for create, update in COLUMN_CALLS:
        created = create(tables, database)
        assert created.status.value == "processing"
        updated = update(tables, database)
        assert updated.key == created.key and updated.default is not None
    row = tables.create_row(database, "kinds", "defaults", {})
    assert row.data["c_int"] == 5 and row.data["c_when"] == "2030-01-01T00:00:00.000+00:00"
    assert row.data["c_enum"] == "c" and row.data["c_bool"] is True
    renamed = tables.update_integer_column(database, "kinds", "c_int", False, None, new_key="c_number")
    assert renamed.key == "c_number" and tables.get_row(database, "kinds", "defaults").data["c_number"] == 5
