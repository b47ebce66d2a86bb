"""TablesDB list_rows queries: filters, order, pagination, select, total."""

import json

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

PEOPLE = [
    ("ana", "Ana Maria", 30, 7.5, True, ["red", "blue"], "2001-01-01T00:00:00Z"),
    ("bia", "Beatriz", 25, 9.0, False, ["blue"], "1999-06-01T00:00:00Z"),
    ("caio", "Caio Silva", 41, None, True, [], None),
    ("duda", "Maria Duda", 25, 3.2, True, ["green"], "2010-12-31T23:59:59Z"),
    ("edu", "Eduardo", None, 5.0, False, ["red"], "1985-05-05T05:05:05Z"),
]


@pytest.fixture(scope="module")
def qdb(stack):
    from tests.conftest import make_client

    tables = TablesDB(make_client(stack))
    database_id = ID.unique()
    tables.create(database_id, "Query tests")
    tables.create_table(database_id, "p", "People")
    tables.create_varchar_column(database_id, "p", "name", 40, True)
    tables.create_integer_column(database_id, "p", "age", False)
    tables.create_float_column(database_id, "p", "score", False)
    tables.create_boolean_column(database_id, "p", "vip", False)
    tables.create_varchar_column(database_id, "p", "colors", 10, False, array=True)
    tables.create_datetime_column(database_id, "p", "born", False)
    for row_id, name, age, score, vip, colors, born in PEOPLE:
        tables.create_row(database_id, "p", row_id, {"name": name, "age": age, "score": score, "vip": vip,
                                                      "colors": colors, "born": born})
    yield tables, database_id
    tables.delete(database_id)


def ids(qdb, queries, **kwargs):
    tables, database_id = qdb
    return [row.id for row in tables.list_rows(database_id, "p", queries, **kwargs).rows]


@pytest.mark.parametrize(
    ("queries", "expected"),
    [
        ([Query.equal("age", [25])], ["bia", "duda"]),
        ([Query.equal("name", ["Ana Maria", "Eduardo"])], ["ana", "edu"]),
        ([Query.not_equal("age", 25)], ["ana", "caio", "edu"]),
        ([Query.less_than("age", 30)], ["bia", "duda"]),
        ([Query.less_than_equal("age", 30)], ["ana", "bia", "duda"]),
        ([Query.greater_than("score", 5.0)], ["ana", "bia"]),
        ([Query.greater_than_equal("score", 5)], ["ana", "bia", "edu"]),
        ([Query.between("age", 26, 41)], ["ana", "caio"]),
        ([Query.is_null("age")], ["edu"]),
        ([Query.is_not_null("score")], ["ana", "bia", "duda", "edu"]),
        ([Query.starts_with("name", "Ma")], ["duda"]),
        ([Query.ends_with("name", "Silva")], ["caio"]),
        ([Query.contains("name", "ar")], ["ana", "duda", "edu"]),
        ([Query.contains("colors", ["red"])], ["ana", "edu"]),
        ([Query.search("name", "maria")], ["ana", "duda"]),
        ([Query.search("name", "maria duda")], ["duda"]),
        ([Query.equal("vip", [True])], ["ana", "caio", "duda"]),
        ([Query.greater_than("born", "2000-01-01T00:00:00.000+00:00")], ["ana", "duda"]),
        ([Query.created_before("2999-01-01")], ["ana", "bia", "caio", "duda", "edu"]),
        ([Query.equal("$id", ["caio"])], ["caio"]),
        ([Query.or_queries([Query.equal("age", [41]), Query.is_null("age")])], ["caio", "edu"]),
        ([Query.and_queries([Query.equal("age", [25]), Query.equal("vip", [True])])], ["duda"]),
        ([Query.equal("age", [25]), Query.equal("vip", [False])], ["bia"]),
    ],
)
def test_filters(qdb, queries, expected):
    assert ids(qdb, queries) == expected


def test_order_limit_offset_total(qdb):
    tables, database_id = qdb
    assert ids(qdb, [Query.order_desc("age")]) == ["caio", "ana", "bia", "duda", "edu"]  # ties by $sequence
    assert ids(qdb, [Query.order_asc("name")]) == ["ana", "bia", "caio", "edu", "duda"]
    assert ids(qdb, [Query.order_desc("$sequence")]) == ["edu", "duda", "caio", "bia", "ana"]
    newest_first = tables.list_rows(database_id, "p", [Query.order_desc("$createdAt")]).rows
    assert [r.createdat for r in newest_first] == sorted((r.createdat for r in newest_first), reverse=True)
    assert ids(qdb, [Query.order_asc("$id"), Query.limit(2), Query.offset(2)]) == ["caio", "duda"]
    page = tables.list_rows(database_id, "p", [Query.limit(2)])
    assert page.total == 5 and len(page.rows) == 2
    assert tables.list_rows(database_id, "p", [Query.limit(2)], total=False).total == 0


def test_cursor_pagination(qdb):
    order = [Query.order_asc("age"), Query.limit(2)]
    assert ids(qdb, order) == ["edu", "bia"]
    assert ids(qdb, [*order, Query.cursor_after("bia")]) == ["duda", "ana"]
    assert ids(qdb, [*order, Query.cursor_after("ana")]) == ["caio"]
    assert ids(qdb, [*order, Query.cursor_before("ana")]) == ["bia", "duda"]
    assert ids(qdb, [Query.cursor_after("bia"), Query.limit(2)]) == ["caio", "duda"]
    with pytest.raises(AppwriteException) as missing:
        ids(qdb, [Query.cursor_after("ghost")])
    assert missing.value.code == 400


def test_select_returns_only_chosen_columns(qdb):
    tables, database_id = qdb
    row = tables.list_rows(database_id, "p", [Query.select(["name", "age"]), Query.equal("$id", ["ana"])]).rows[0]
    assert row.data == {"name": "Ana Maria", "age": 30} and row.id == "ana"


@pytest.mark.parametrize(
    "bad",
    [
        Query.equal("nope", ["x"]),
        Query.limit(5001),
        Query.equal("age", ["not a number"]),
        '{"method":"explode","attribute":"age","values":[1]}',
        "not json",
        json.dumps({"method": "or", "values": [{"method": "equal", "attribute": "ghost", "values": [1]}]}),
        Query.order_asc("ghost"),
        Query.select(["name", "ghost"]),
    ],
)
def test_invalid_queries_are_400(qdb, bad):
    with pytest.raises(AppwriteException) as error:
        ids(qdb, [bad])
    assert (error.value.code, error.value.type) == (400, "general_query_invalid")


def test_values_are_parameters_not_sql(qdb):
    assert ids(qdb, [Query.equal("name", ["x' OR '1'='1"])]) == []
    assert ids(qdb, [Query.contains("name", "%")]) == []
