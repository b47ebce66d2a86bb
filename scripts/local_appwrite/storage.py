"""SQLite storage shared by every service of the local stack.

One database file holds everything. Each thread holds one connection at a time (a connection is
never used by two threads at once); WAL mode lets readers run while a writer commits. Connections are
pooled: the HTTP server serves every request on a new thread, and a new SQLite connection must parse the
whole schema (thousands of tables once many tenants exist) before its first query, so a thread that ends
gives its connection back for the next one instead of closing it. SQLite itself notices schema changes
made by another connection and re-reads the schema once. Writes are serialized by one
process-wide lock and run inside ``BEGIN IMMEDIATE`` so a read-modify-write inside :meth:`write`
is atomic with respect to every other request - this is what makes increments, unique checks and
transaction commits correct under concurrency. ``write`` is re-entrant on the same thread: a nested
call joins the outer transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_IDLE_CONNECTIONS = 128


class _Lease:
    """A thread's hold on a pooled connection: when the thread ends, its thread-local storage is dropped
    and this gives the connection back (or closes it if the pool is full or a transaction was left open)."""

    def __init__(self, conn: sqlite3.Connection, pool: list[sqlite3.Connection], lock: threading.Lock) -> None:
        self.conn, self._pool, self._lock = conn, pool, lock

    def __del__(self) -> None:
        conn = self.conn
        try:
            if conn.in_transaction:
                conn.close()
                return
            with self._lock:
                if len(self._pool) < MAX_IDLE_CONNECTIONS:
                    self._pool.append(conn)
                    return
            conn.close()
        except Exception:  # noqa: S110 - interpreter shutdown: nothing left to give back to
            pass


class Storage:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self._write_lock = threading.RLock()
        with self._write_lock:  # journal_mode cannot change inside a transaction, so not via write()
            self.connection().execute("PRAGMA journal_mode=WAL")

    def connection(self) -> sqlite3.Connection:
        lease = getattr(self._local, "lease", None)
        if lease is None:
            with self._idle_lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            lease = _Lease(conn, self._idle, self._idle_lock)
            self._local.lease = lease
            self._local.depth = 0
        return lease.conn

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        yield self.connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        with self._write_lock:
            outermost = self._local.depth == 0
            if outermost:
                conn.execute("BEGIN IMMEDIATE")
            self._local.depth += 1
            try:
                yield conn
            except BaseException:
                self._local.depth -= 1
                if outermost:
                    conn.execute("ROLLBACK")
                raise
            self._local.depth -= 1
            if outermost:
                conn.execute("COMMIT")

    def migrate(self, ddl: str) -> None:
        """Run idempotent DDL (``CREATE TABLE IF NOT EXISTS ...``) once at start-up."""
        with self._write_lock:
            self.connection().executescript(ddl)

    def close(self) -> None:
        lease = getattr(self._local, "lease", None)
        if lease is not None:
            self._local.lease = None
            lease.conn.close()
        with self._idle_lock:
            idle, self._idle[:] = list(self._idle), []
        for conn in idle:
            conn.close()
