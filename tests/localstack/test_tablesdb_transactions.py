"""TablesDB transactions: staging, reads that see staged rows, atomic commit, conflicts, limits, expiry."""

import time

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from local_appwrite.tablesdb import transactions


@pytest.fixture
def txdb(client):
    tables = TablesDB(client)
    database_id = ID.unique()
    tables.create(database_id, "Transaction tests")
    tables.create_table(database_id, "accounts", "Accounts")
    tables.create_varchar_column(database_id, "accounts", "owner", 20, True)
    tables.create_varchar_column(database_id, "accounts", "email", 40, False)
    tables.create_integer_column(database_id, "accounts", "balance", False, default=0)
    tables.create_index(database_id, "accounts", "u_email", "unique", ["email"])
    tables.create_row(database_id, "accounts", "a1", {"owner": "Ana", "balance": 100})
    tables.create_row(database_id, "accounts", "a2", {"owner": "Bia", "balance": 50})
    yield tables, database_id
    tables.delete(database_id)


def error_of(call):
    with pytest.raises(AppwriteException) as error:
        call()
    return error.value.code, error.value.type


def test_create_get_list_rollback_delete(txdb):
    tables, _ = txdb
    txn = tables.create_transaction()
    assert (txn.status, txn.operations) == ("pending", 0) and txn.expiresat > txn.createdat
    assert tables.get_transaction(txn.id).id == txn.id
    listed = tables.list_transactions([Query.equal("$id", [txn.id])]).transactions
    assert [t.id for t in listed] == [txn.id]
    assert tables.update_transaction(txn.id, rollback=True).status == "rolled_back"
    assert error_of(lambda: tables.update_transaction(txn.id, commit=True)) == (400, "transaction_not_ready")
    tables.delete_transaction(txn.id)
    assert error_of(lambda: tables.get_transaction(txn.id)) == (404, "transaction_not_found")
    assert error_of(lambda: tables.create_transaction(ttl=30))[0] == 400
    assert error_of(lambda: tables.create_transaction(ttl=3601))[0] == 400


def test_staged_writes_are_visible_only_inside_the_transaction(txdb):
    tables, db = txdb
    txn = tables.create_transaction(ttl=60)
    staged = tables.create_row(db, "accounts", "a3", {"owner": "Caio"}, transaction_id=txn.id)
    assert staged.id == "a3" and staged.data["balance"] == 0
    tables.update_row(db, "accounts", "a1", {"balance": 90}, transaction_id=txn.id)
    assert tables.get_row(db, "accounts", "a1", transaction_id=txn.id).data["balance"] == 90
    assert tables.get_row(db, "accounts", "a1").data["balance"] == 100
    assert error_of(lambda: tables.get_row(db, "accounts", "a3")) == (404, "row_not_found")
    inside = tables.list_rows(db, "accounts", [Query.order_asc("$id")], transaction_id=txn.id)
    assert [r.id for r in inside.rows] == ["a1", "a2", "a3"] and inside.total == 3
    assert tables.list_rows(db, "accounts").total == 2
    assert tables.get_transaction(txn.id).operations == 2
    tables.update_transaction(txn.id, rollback=True)
    assert error_of(lambda: tables.get_row(db, "accounts", "a3")) == (404, "row_not_found")


def test_commit_applies_everything_atomically_and_fires_events(stack, txdb):
    tables, db = txdb
    seen = []
    stack.events.subscribe(lambda event: seen.append(event.names[0]) if db in event.names[0] else None)
    txn = tables.create_transaction()
    tables.create_operations(txn.id, [
        {"action": "create", "databaseId": db, "tableId": "accounts", "rowId": "a3", "data": {"owner": "Caio"}},
        {"action": "update", "databaseId": db, "tableId": "accounts", "rowId": "a2", "data": {"owner": "Beatriz"}},
    ])
    tables.decrement_row_column(db, "accounts", "a1", "balance", 30, min=0, transaction_id=txn.id)
    tables.increment_row_column(db, "accounts", "a3", "balance", 30, transaction_id=txn.id)
    tables.delete_row(db, "accounts", "a2", transaction_id=txn.id)
    committed = tables.update_transaction(txn.id, commit=True)
    assert (committed.status, committed.operations) == ("committed", 5)
    assert tables.get_row(db, "accounts", "a1").data["balance"] == 70
    assert tables.get_row(db, "accounts", "a3").data == {"owner": "Caio", "email": None, "balance": 30}
    assert error_of(lambda: tables.get_row(db, "accounts", "a2")) == (404, "row_not_found")
    deadline = time.time() + 2
    while len(seen) < 5 and time.time() < deadline:
        time.sleep(0.01)
    assert sorted(name.rsplit(".", 1)[1] for name in seen) == ["create", "delete", "update", "update", "update"]


def test_row_changed_since_staging_is_a_conflict(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    tables.create_row(db, "accounts", "a3", {"owner": "Caio"}, transaction_id=txn.id)
    tables.update_row(db, "accounts", "a1", {"balance": 1}, transaction_id=txn.id)
    tables.update_row(db, "accounts", "a1", {"owner": "Someone else"})  # outside the transaction
    assert error_of(lambda: tables.update_transaction(txn.id, commit=True)) == (409, "transaction_conflict")
    assert tables.get_transaction(txn.id).status == "failed"
    assert tables.get_row(db, "accounts", "a1").data["balance"] == 100
    assert error_of(lambda: tables.get_row(db, "accounts", "a3")) == (404, "row_not_found")  # nothing applied


def test_unique_violation_at_commit_is_a_conflict(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    tables.update_row(db, "accounts", "a1", {"balance": 0}, transaction_id=txn.id)
    tables.create_row(db, "accounts", "a3", {"owner": "Caio", "email": "c@x.io"}, transaction_id=txn.id)
    tables.create_row(db, "accounts", "a4", {"owner": "Duda", "email": "c@x.io"})  # takes the email first
    assert error_of(lambda: tables.update_transaction(txn.id, commit=True)) == (409, "transaction_conflict")
    assert tables.get_row(db, "accounts", "a1").data["balance"] == 100
    assert error_of(lambda: tables.get_row(db, "accounts", "a3")) == (404, "row_not_found")


def test_duplicate_id_at_commit_is_a_conflict(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    tables.create_operations(txn.id, [{"action": "create", "databaseId": db, "tableId": "accounts", "rowId": "a1",
                                       "data": {"owner": "Dup"}}])
    assert error_of(lambda: tables.update_transaction(txn.id, commit=True)) == (409, "transaction_conflict")


def test_failed_bound_at_commit_applies_nothing(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    tables.update_row(db, "accounts", "a2", {"owner": "X"}, transaction_id=txn.id)
    tables.create_operations(txn.id, [{"action": "decrement", "databaseId": db, "tableId": "accounts", "rowId": "a1",
                                       "data": {"column": "balance", "value": 60, "min": 0}}])
    tables.decrement_row_column(db, "accounts", "a1", "balance", 60, min=0)  # a concurrent spender wins
    assert error_of(lambda: tables.update_transaction(txn.id, commit=True)) == (400, "column_limit_exceeded")
    assert tables.get_transaction(txn.id).status == "failed"
    assert tables.get_row(db, "accounts", "a2").data["owner"] == "Bia"


def test_staging_validates_rows(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    assert error_of(lambda: tables.create_row(db, "accounts", "x", {"nope": 1}, transaction_id=txn.id)) == (
        400, "row_invalid_structure")
    assert error_of(lambda: tables.update_row(db, "accounts", "ghost", {"balance": 1}, transaction_id=txn.id)) == (
        404, "row_not_found")
    assert tables.get_transaction(txn.id).operations == 0


def test_at_most_100_operations(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    ops = [{"action": "create", "databaseId": db, "tableId": "accounts", "rowId": f"r{i}", "data": {"owner": "x"}}
           for i in range(101)]
    assert error_of(lambda: tables.create_operations(txn.id, ops)) == (400, "transaction_limit_exceeded")
    tables.create_operations(txn.id, ops[:100])
    assert error_of(lambda: tables.create_row(db, "accounts", "one_more", {"owner": "x"}, transaction_id=txn.id)) == (
        400, "transaction_limit_exceeded")
    assert tables.update_transaction(txn.id, commit=True).operations == 100
    assert tables.list_rows(db, "accounts", [Query.limit(1)]).total == 102


def test_bulk_operations_in_a_transaction(txdb):
    tables, db = txdb
    txn = tables.create_transaction()
    tables.create_operations(txn.id, [
        {"action": "bulkCreate", "databaseId": db, "tableId": "accounts",
         "data": [{"$id": "b1", "owner": "B1"}, {"$id": "b2", "owner": "B2"}]},
        {"action": "bulkUpdate", "databaseId": db, "tableId": "accounts",
         "data": {"queries": [Query.starts_with("owner", "B")], "data": {"balance": 7}}},
        {"action": "bulkDelete", "databaseId": db, "tableId": "accounts",
         "data": {"queries": [Query.equal("$id", ["a1"])]}},
    ])
    tables.update_transaction(txn.id, commit=True)
    rows = {r.id: r.data["balance"] for r in tables.list_rows(db, "accounts").rows}
    assert rows == {"a2": 7, "b1": 7, "b2": 7}


def test_expired_transaction_is_410(txdb, monkeypatch):
    tables, db = txdb
    txn = tables.create_transaction(ttl=60)
    tables.update_row(db, "accounts", "a1", {"balance": 1}, transaction_id=txn.id)
    later = time.time() + 61
    monkeypatch.setattr(transactions, "clock", lambda: later)
    assert error_of(lambda: tables.update_transaction(txn.id, commit=True)) == (410, "transaction_expired")
    assert error_of(lambda: tables.update_row(db, "accounts", "a1", {"balance": 2}, transaction_id=txn.id)) == (
        410, "transaction_expired")
    assert tables.get_row(db, "accounts", "a1").data["balance"] == 100


def test_unknown_transaction_is_404(txdb):
    tables, db = txdb
    assert error_of(lambda: tables.create_row(db, "accounts", "z", {"owner": "z"}, transaction_id="nope")) == (
        404, "transaction_not_found")
