"""SQLite storage shared by every service of the local stack.

One database file holds everything. Each thread gets its own connection (sqlite3 connections must
not cross threads); WAL mode lets readers run while a writer commits. Writes are serialized by one
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


class Storage:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.RLock()
        with self._write_lock:  # journal_mode cannot change inside a transaction, so not via write()
            self.connection().execute("PRAGMA journal_mode=WAL")

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
            self._local.depth = 0
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
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
