"""Atomic increment/decrement of numeric columns, bounds on the resulting value, under concurrency."""

import threading

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.tables_db import TablesDB

from tests.conftest import make_client


@pytest.fixture
def wallet(client):
    tables = TablesDB(client)
    database_id = ID.unique()
    tables.create(database_id, "Increment tests")
    tables.create_table(database_id, "wallets", "Wallets")
    tables.create_integer_column(database_id, "wallets", "balance", False, default=0)
    tables.create_float_column(database_id, "wallets", "ratio", False)
    tables.create_varchar_column(database_id, "wallets", "owner", 20, False)
    tables.create_row(database_id, "wallets", "w1", {"balance": 10, "ratio": 0.5})
    yield tables, database_id
    tables.delete(database_id)


def test_increment_and_decrement(wallet):
    tables, db = wallet
    assert tables.increment_row_column(db, "wallets", "w1", "balance").data["balance"] == 11
    assert tables.increment_row_column(db, "wallets", "w1", "balance", 4, max=15).data["balance"] == 15
    assert tables.decrement_row_column(db, "wallets", "w1", "balance", 15, min=0).data["balance"] == 0
    assert tables.increment_row_column(db, "wallets", "w1", "ratio", 0.25).data["ratio"] == 0.75


@pytest.mark.parametrize(
    ("call", "code", "type_"),
    [
        (lambda t, db: t.increment_row_column(db, "wallets", "w1", "balance", 6, max=15), 400, "column_limit_exceeded"),
        (lambda t, db: t.decrement_row_column(db, "wallets", "w1", "balance", 11, min=0), 400, "column_limit_exceeded"),
        (lambda t, db: t.increment_row_column(db, "wallets", "w1", "owner"), 400, "attribute_type_invalid"),
        (lambda t, db: t.increment_row_column(db, "wallets", "w1", "ghost"), 404, "column_not_found"),
        (lambda t, db: t.increment_row_column(db, "wallets", "nope", "balance"), 404, "row_not_found"),
        (lambda t, db: t.increment_row_column(db, "wallets", "w1", "balance", -1), 400, "general_argument_invalid"),
    ],
)
def test_increment_errors(wallet, call, code, type_):
    tables, db = wallet
    with pytest.raises(AppwriteException) as error:
        call(tables, db)
    assert (error.value.code, error.value.type) == (code, type_)
    assert tables.get_row(db, "wallets", "w1").data["balance"] == 10  # unchanged


@pytest.mark.slow
def test_concurrent_decrements_never_go_below_min(stack, wallet):
    tables, db = wallet
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def spend():
        client = TablesDB(make_client(stack))  # each thread its own SDK client
        start.wait()
        try:
            client.decrement_row_column(db, "wallets", "w1", "balance", 1, min=0)
            result = "ok"
        except AppwriteException as error:
            result = f"{error.code} {error.type}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=spend) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("ok") == 10
    assert outcomes.count("400 column_limit_exceeded") == 40
    assert tables.get_row(db, "wallets", "w1").data["balance"] == 0


def test_operators_move_several_columns_in_one_update(wallet):
    """Appwrite's DB operators: several atomic increments of one row in one ``update_row`` call; a
    bound violated by any of them changes nothing; a missing row is 404 (then the caller creates it)."""
    from appwrite.operator import Operator

    tables, db = wallet
    row = tables.update_row(db, "wallets", "w1", {"balance": Operator.increment(5), "ratio": Operator.increment(0.25),
                                                  "owner": "ana"})
    assert (row.data["balance"], row.data["ratio"], row.data["owner"]) == (15, 0.75, "ana")
    row = tables.update_row(db, "wallets", "w1", {"balance": Operator.decrement(3, min=0)})
    assert row.data["balance"] == 12
    with pytest.raises(AppwriteException) as error:
        tables.update_row(db, "wallets", "w1",
                          {"ratio": Operator.increment(1), "balance": Operator.increment(9, max=20)})
    assert (error.value.code, error.value.type) == (400, "column_limit_exceeded")
    left = tables.get_row(db, "wallets", "w1").data
    assert (left["balance"], left["ratio"]) == (12, 0.75)  # the whole call rolled back
    with pytest.raises(AppwriteException) as error:
        tables.update_row(db, "wallets", "nope", {"balance": Operator.increment(1)})
    assert (error.value.code, error.value.type) == (404, "row_not_found")
    with pytest.raises(AppwriteException) as error:  # served locally: increment and decrement only
        tables.update_row(db, "wallets", "w1", {"balance": Operator.multiply(2)})
    assert error.value.code == 400
