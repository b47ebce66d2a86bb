"""Transactions: ``/tablesdb/transactions...`` and the staging behind row calls' ``transactionId``.

Staged operations are stored in SQLite. Reads with a ``transactionId`` and the staging preview
replay the staged operations inside a SAVEPOINT that is rolled back, so they see exactly what a
commit would produce. A commit checks, in one ``storage.write()``, that every row the transaction
read-modify-writes still has the version seen at staging, then applies all operations; any
conflict or duplicate → 409 ``transaction_conflict``, nothing applied, status ``failed``.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ..common import as_bool, dumps, loads, now_iso, unique_id
from ..errors import AppwriteError
from ..http import Request, Response, Router
from . import listing, store, txn_ops
from .queries import Field
from .schema import TableMeta
from .serialize import transaction_json
from .service import TablesService, created, no_content

DDL = """
CREATE TABLE IF NOT EXISTS tdb_transactions (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, operations INTEGER NOT NULL DEFAULT 0, created TEXT NOT NULL,
    updated TEXT NOT NULL, expires TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tdb_operations (
    txn_id TEXT NOT NULL, position INTEGER NOT NULL, op TEXT NOT NULL, checked INTEGER NOT NULL DEFAULT 0,
    expected_version INTEGER, PRIMARY KEY (txn_id, position));
"""
TTL_DEFAULT, TTL_MIN, TTL_MAX, MAX_OPERATIONS = 300, 60, 3600, 100
_FIELDS = {"$id": Field("id", "string"), "status": Field("status", "string"),
           "$createdAt": Field("created", "datetime"), "$updatedAt": Field("updated", "datetime")}
T = TypeVar("T")


def clock() -> float:
    """Seconds since the epoch; tests patch this to expire a transaction without waiting."""
    return time.time()


def _not_found() -> AppwriteError:
    return AppwriteError(404, "transaction_not_found", "Transaction with the requested ID could not be found.")


def _load(conn: sqlite3.Connection, txn_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM tdb_transactions WHERE id = ?", (txn_id,)).fetchone()
    if row is None:
        raise _not_found()
    return row


def _pending(conn: sqlite3.Connection, txn_id: str) -> sqlite3.Row:
    row = _load(conn, txn_id)
    if row["status"] != "pending":
        raise AppwriteError(400, "transaction_not_ready", f"Transaction is not pending (status: {row['status']}).")
    if clock() > row["expires_at"]:
        raise AppwriteError(410, "transaction_expired", "Transaction has expired.")
    return row


def _ops(conn: sqlite3.Connection, txn_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM tdb_operations WHERE txn_id = ? ORDER BY position", (txn_id,)).fetchall()


def _replay(svc: TablesService, conn: sqlite3.Connection, ops: list[dict], strict: bool) -> None:
    """Apply ops one SAVEPOINT each; lenient replay skips an op that fails (as a read overlay must)."""
    for op in ops:
        conn.execute("SAVEPOINT op")
        try:
            txn_ops.apply(svc, conn, op)
        except (AppwriteError, sqlite3.IntegrityError) as error:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            if strict and not (isinstance(error, AppwriteError) and error.code == 409):
                raise
            continue
        conn.execute("RELEASE op")


def overlay(svc: TablesService, txn_id: str, read: Callable[[sqlite3.Connection], T], meta: TableMeta) -> T:
    """Run ``read`` of ``meta``'s table on a view that includes the transaction's staged operations."""
    with svc.storage.write() as conn:
        _pending(conn, txn_id)
        svc.on(conn, meta)
        conn.execute("SAVEPOINT overlay")
        try:
            _replay(svc, conn, [loads(r["op"]) for r in _ops(conn, txn_id)], strict=False)
            return read(conn)
        finally:
            conn.execute("ROLLBACK TO overlay")
            conn.execute("RELEASE overlay")


def stage(svc: TablesService, txn_id: str, raw_ops: list, preview: tuple[str, str, str] | None = None) -> Any:
    """Validate and store operations; return the transaction, or the previewed row for a row call."""
    ops = [txn_ops.normalize(raw) for raw in raw_ops]
    with svc.storage.write() as conn:
        txn = _pending(conn, txn_id)
        existing = _ops(conn, txn_id)
        if len(existing) + len(ops) > MAX_OPERATIONS:
            raise AppwriteError(400, "transaction_limit_exceeded",
                                f"A transaction can hold at most {MAX_OPERATIONS} operations.")
        keys = ("databaseId", "tableId", "rowId")
        claimed = {tuple(loads(r["op"])[k] for k in keys) for r in existing if r["checked"]}
        staged = []
        for op in ops:  # the first read-modify-write of a row records the version it saw
            target = (op["databaseId"], op["tableId"], op["rowId"])
            checked = op["action"] in txn_ops.CHECKED_ACTIONS and target not in claimed
            expected = None
            if checked:
                expected = store.version(conn, svc.table_on(conn, *target[:2]), op["rowId"])
                claimed.add(target)
            staged.append((op, checked, expected))
        conn.execute("SAVEPOINT preview")
        try:
            _replay(svc, conn, [loads(r["op"]) for r in existing], strict=False)
            _replay(svc, conn, ops, strict=True)
            row = store.fetch(conn, svc.table_on(conn, *preview[:2]), preview[2]) if preview else None
        finally:
            conn.execute("ROLLBACK TO preview")
            conn.execute("RELEASE preview")
        for position, (op, checked, expected) in enumerate(staged, start=len(existing)):
            conn.execute(
                "INSERT INTO tdb_operations (txn_id, position, op, checked, expected_version) VALUES (?, ?, ?, ?, ?)",
                (txn_id, position, dumps(op), int(checked), expected),
            )
        conn.execute("UPDATE tdb_transactions SET operations = ?, updated = ? WHERE id = ?",
                     (len(existing) + len(ops), now_iso(), txn["id"]))
        return row if preview else transaction_json(_load(conn, txn_id))


def commit(svc: TablesService, txn_id: str) -> dict:
    events: list[txn_ops.Event] = []
    try:
        with svc.storage.write() as conn:
            _pending(conn, txn_id)
            rows = _ops(conn, txn_id)
            for row in rows:
                if row["checked"]:
                    op = loads(row["op"])
                    current = store.version(conn, svc.table_on(conn, op["databaseId"], op["tableId"]), op["rowId"])
                    if current != row["expected_version"]:
                        message = f"Row {op['rowId']} changed since it was staged."
                        raise AppwriteError(409, "transaction_conflict", message)
            for row in rows:
                events += txn_ops.apply(svc, conn, loads(row["op"]))
            _set_status(conn, txn_id, "committed")
            body = transaction_json(_load(conn, txn_id))
    except (AppwriteError, sqlite3.IntegrityError) as error:
        if isinstance(error, AppwriteError) and error.type in {"transaction_not_found", "transaction_not_ready",
                                                               "transaction_expired"}:
            raise
        with svc.storage.write() as conn:
            _set_status(conn, txn_id, "failed")
        if isinstance(error, sqlite3.IntegrityError) or error.code == 409:
            raise AppwriteError(409, "transaction_conflict", f"Transaction conflict: {error}") from None
        raise
    svc.publish_all(events)
    return body


def _set_status(conn: sqlite3.Connection, txn_id: str, status: str) -> None:
    conn.execute("UPDATE tdb_transactions SET status = ?, updated = ? WHERE id = ?", (status, now_iso(), txn_id))


def register(svc: TablesService, router: Router) -> None:
    svc.storage.migrate(DDL)

    def create_transaction(request: Request) -> Response:
        ttl = request.param("ttl", TTL_DEFAULT)
        if isinstance(ttl, bool) or not isinstance(ttl, int | float) or not TTL_MIN <= ttl <= TTL_MAX:
            raise AppwriteError(400, "general_argument_invalid",
                                f"Invalid `ttl` param: Value must be a valid range between {TTL_MIN} and {TTL_MAX}")
        txn_id, now, expires_at = unique_id(), now_iso(), clock() + ttl
        expires = datetime.fromtimestamp(expires_at, UTC).isoformat(timespec="milliseconds")
        with svc.storage.write() as conn:
            conn.execute(
                "INSERT INTO tdb_transactions (id, status, created, updated, expires, expires_at) "
                "VALUES (?, 'pending', ?, ?, ?, ?)", (txn_id, now, now, expires, expires_at),
            )
            return created(transaction_json(_load(conn, txn_id)))

    def list_transactions(request: Request) -> dict:
        with svc.storage.read() as conn:
            return listing.list_rows(conn, "tdb_transactions", _FIELDS, request.params, transaction_json,
                                     "transactions", search_columns=("id",))

    def get_transaction(request: Request, transactionId: str) -> dict:  # noqa: N803 - route names
        with svc.storage.read() as conn:
            return transaction_json(_load(conn, transactionId))

    def update_transaction(request: Request, transactionId: str) -> dict:  # noqa: N803
        if as_bool(request.param("commit")):
            return commit(svc, transactionId)
        if not as_bool(request.param("rollback")):
            raise AppwriteError(400, "general_argument_invalid", "Either commit or rollback must be true.")
        with svc.storage.write() as conn:
            _pending(conn, transactionId)
            _set_status(conn, transactionId, "rolled_back")
            return transaction_json(_load(conn, transactionId))

    def delete_transaction(request: Request, transactionId: str) -> Response:  # noqa: N803
        with svc.storage.write() as conn:
            _load(conn, transactionId)
            conn.execute("DELETE FROM tdb_operations WHERE txn_id = ?", (transactionId,))
            conn.execute("DELETE FROM tdb_transactions WHERE id = ?", (transactionId,))
        return no_content()

    def create_operations(request: Request, transactionId: str) -> Response:  # noqa: N803
        operations = request.param("operations") or []
        if not isinstance(operations, list):
            raise AppwriteError(400, "general_argument_invalid", "Invalid `operations` param: Value must be an array")
        return created(stage(svc, transactionId, operations))

    router.add("GET", "/tablesdb/transactions", list_transactions, scope="rows.read")
    router.add("POST", "/tablesdb/transactions", create_transaction, scope="rows.write")
    router.add("GET", "/tablesdb/transactions/{transactionId}", get_transaction, scope="rows.read")
    router.add("PATCH", "/tablesdb/transactions/{transactionId}", update_transaction, scope="rows.write")
    router.add("DELETE", "/tablesdb/transactions/{transactionId}", delete_transaction, scope="rows.write")
    router.add("POST", "/tablesdb/transactions/{transactionId}/operations", create_operations, scope="rows.write")
