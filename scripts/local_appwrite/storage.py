"""SQLite storage shared by every service of the local stack.

The stack's own file (``appwrite.sqlite3``: users, teams, functions, executions, TablesDB metadata and
transactions) plus one file per Appwrite database under ``databases/`` (its tables' rows and indexes,
see ``tablesdb/files.py``). A request that reads or writes rows opens only its database's file, whose
schema is that database's few tables, so its cost does not grow with the number of databases.

Connections are pooled per file, with one bound over every file (``MAX_IDLE_CONNECTIONS``); the pool of
the least recently used file is closed first when the bound is passed. A new SQLite connection parses
its file's whole schema before its first query, so reusing one saves that; SQLite itself notices a
schema change made by another connection and re-reads the schema once (that is the refresh after
``ALTER TABLE``/``CREATE INDEX``). The stack file's connection is held by a thread for its life (given
back when the thread ends); a database file's connection only for one ``read_file``/``write_file`` block.
Each connection is used by one thread at a time; WAL mode lets readers run while a writer commits.

Writes are serialized by one process-wide lock and run inside ``BEGIN IMMEDIATE``, so a read-modify-write
inside a write is atomic with respect to every other request - this is what makes increments, unique
checks and transaction commits correct under concurrency. ``write`` is re-entrant on the same thread: a
nested call joins the outer transaction. A write on the stack file may ``attach`` database files (TablesDB
transactions and schema changes span the metadata and one or more databases): their changes commit or roll
back with it, and they are detached when the outermost write ends.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

MAX_IDLE_CONNECTIONS = 128  # over every file
MAX_IDLE_PER_FILE = 16  # a busy database keeps at most this many; more threads open (and close) their own
MAX_IDLE_STACK_FILE = 64  # the stack file serves every request (credentials, metadata on a cache miss)


class _Pool:
    """Idle connections per file, least recently used file first; bounded over every file."""

    def __init__(self) -> None:
        self._idle: OrderedDict[Path, list[sqlite3.Connection]] = OrderedDict()
        self._count = 0
        self._dropped: set[Path] = set()
        self.lock = threading.Lock()

    def take(self, path: Path) -> sqlite3.Connection | None:
        with self.lock:
            idle = self._idle.get(path)
            if not idle:
                return None
            self._idle.move_to_end(path)
            self._count -= 1
            return idle.pop()

    def give(self, path: Path, conn: sqlite3.Connection, cap: int = MAX_IDLE_PER_FILE) -> None:
        """Keep ``conn`` for the next user of ``path``; close it (or the oldest file's) past the bounds."""
        doomed: list[sqlite3.Connection] = []
        with self.lock:
            idle = self._idle.setdefault(path, [])
            self._idle.move_to_end(path)
            if conn.in_transaction or path in self._dropped or len(idle) >= cap:
                doomed.append(conn)
            else:
                idle.append(conn)
                self._count += 1
            while self._count > MAX_IDLE_CONNECTIONS:
                oldest, conns = next(iter(self._idle.items()))
                if not conns:
                    del self._idle[oldest]
                    continue
                doomed.append(conns.pop(0))
                self._count -= 1
        for closing in doomed:
            closing.close()

    def drop(self, path: Path) -> None:
        """Close ``path``'s idle connections; connections still in use are closed when given back."""
        with self.lock:
            self._dropped.add(path)
            idle = self._idle.pop(path, [])
            self._count -= len(idle)
        for conn in idle:
            conn.close()

    def close_all(self) -> None:
        with self.lock:
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
            self._count = 0
        for conn in idle:
            conn.close()

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {"files": sum(1 for conns in self._idle.values() if conns), "idle": self._count}


class _Lease:
    """A thread's hold on a pooled stack-file connection: when the thread ends, its thread-local storage is
    dropped and this gives the connection back (closed instead if a transaction was left open)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, pool: _Pool) -> None:
        self.conn, self._path, self._pool = conn, path, pool

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: nothing left to give back to
            self._pool.give(self._path, self.conn, MAX_IDLE_STACK_FILE)


class Storage:
    def __init__(self, path: Path, databases_dir: Path | None = None) -> None:
        self.path = path
        self.databases_dir = databases_dir or path.parent / "databases"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.databases_dir.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._pool = _Pool()
        self._write_lock = threading.RLock()
        with self._write_lock:  # journal_mode cannot change inside a transaction, so not via write()
            self.connection().execute("PRAGMA journal_mode=WAL")

    # -- the stack's own file -----------------------------------------------------------------------------

    def connection(self) -> sqlite3.Connection:
        lease = getattr(self._local, "lease", None)
        if lease is None:
            conn = self._pool.take(self.path) or self._connect(self.path)
            lease = _Lease(conn, self.path, self._pool)
            self._local.lease = lease
            self._local.depth = 0
            self._local.attached = {}
        return lease.conn

    @staticmethod
    def _connect(path: Path, create: bool = True) -> sqlite3.Connection:
        """URI filenames, so that ``attach`` can refuse to create a database file that was deleted."""
        uri = f"file:{quote(str(path))}" + ("" if create else "?mode=rw")
        try:
            conn = sqlite3.connect(uri, isolation_level=None, timeout=30, check_same_thread=False, uri=True)
        except sqlite3.OperationalError:
            if create or path.exists():
                raise
            raise FileMissing(path) from None
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    def in_write(self) -> bool:
        """Whether this thread is inside a ``write()`` (what it reads may not be committed yet)."""
        return getattr(self._local, "depth", 0) > 0

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
                    self._detach_all(conn)
                raise
            self._local.depth -= 1
            if outermost:
                try:
                    conn.execute("COMMIT")
                finally:
                    self._detach_all(conn)

    def attach(self, conn: sqlite3.Connection, alias: str, path: Path) -> None:
        """Make ``path``'s tables visible to this thread's stack-file write (under ``alias``) until it ends.
        Table names are unique over every file, so SQL names them without the alias."""
        attached: dict[str, Path] = self._local.attached
        if alias in attached:
            return
        if self._local.depth == 0:
            raise RuntimeError("attach() is only for the inside of storage.write()")
        try:
            conn.execute("ATTACH DATABASE ? AS " + alias, (f"file:{quote(str(path))}?mode=rw",))
        except sqlite3.OperationalError as error:
            if "too many attached" in str(error):
                raise AttachLimit(conn.getlimit(sqlite3.SQLITE_LIMIT_ATTACHED)) from None
            if not path.exists():
                raise FileMissing(path) from None
            raise
        attached[alias] = path

    def _detach_all(self, conn: sqlite3.Connection) -> None:
        attached: dict[str, Path] = self._local.attached
        for alias in list(attached):
            conn.execute("DETACH DATABASE " + alias)
            del attached[alias]

    def migrate(self, ddl: str) -> None:
        """Run idempotent DDL (``CREATE TABLE IF NOT EXISTS ...``) once at start-up."""
        with self._write_lock:
            self.connection().executescript(ddl)

    # -- database files -----------------------------------------------------------------------------------

    @contextmanager
    def _borrow(self, path: Path) -> Iterator[list]:
        """This thread's connection on ``path`` for the block: ``[conn, write depth]`` (nested blocks share it)."""
        held: dict[Path, list] = self._local.__dict__.setdefault("files", {})
        entry = held.get(path)
        if entry is not None:
            yield entry
            return
        entry = [self._pool.take(path) or self._connect(path, create=False), 0]
        held[path] = entry
        try:
            yield entry
        finally:
            del held[path]
            self._pool.give(path, entry[0])

    @contextmanager
    def read_file(self, path: Path) -> Iterator[sqlite3.Connection]:
        with self._borrow(path) as entry:
            yield entry[0]

    @contextmanager
    def write_file(self, path: Path) -> Iterator[sqlite3.Connection]:
        """A write on one database file, under the same process-wide lock as every other write."""
        with self._borrow(path) as entry, self._write_lock:
            conn, outermost = entry[0], entry[1] == 0
            if outermost:
                conn.execute("BEGIN IMMEDIATE")
            entry[1] += 1
            try:
                yield conn
            except BaseException:
                entry[1] -= 1
                if outermost:
                    conn.execute("ROLLBACK")
                raise
            entry[1] -= 1
            if outermost:
                conn.execute("COMMIT")

    def create_file(self, path: Path) -> None:
        """A new, empty database file in WAL mode (persistent in the file, so set once here)."""
        conn = self._connect(path)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        finally:
            conn.close()

    def drop_file(self, path: Path) -> None:
        """Close the file's pooled connections and delete it (with its WAL and shared-memory files)."""
        self._pool.drop(path)
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{path}{suffix}").unlink()

    def pool_stats(self) -> dict[str, int]:
        return self._pool.stats()

    def close(self) -> None:
        lease = getattr(self._local, "lease", None)
        if lease is not None:
            self._local.lease = None
            lease.conn.close()
        self._pool.close_all()


class AttachLimit(RuntimeError):
    """One write would need more database files than SQLite attaches to one connection."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"at most {limit - 1} databases in one transaction")
        self.limit = limit


class FileMissing(LookupError):
    """A database file that does not exist (deleted while a request still knew its database)."""
