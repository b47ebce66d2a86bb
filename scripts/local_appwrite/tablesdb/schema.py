"""Metadata of databases, tables, columns and indexes, and the SQLite DDL behind them.

Every Appwrite table is a real SQLite table ``t_<seq>``: internal columns ``_seq`` (``$sequence``),
``_uid`` (``$id``, UNIQUE), ``_created``, ``_updated``, ``_perms`` (JSON) and ``_version`` (bumped
on every write, for the optimistic checks of transactions), plus one SQLite column per Appwrite
column, named by its key (arrays as JSON text). Unique indexes are real SQLite UNIQUE indexes, so
uniqueness holds however requests interleave. The metadata lives in ``tdb_*`` tables of the stack file;
the tables themselves in their database's own file (``tdb_files``, ``files.py``). ``seq`` is unique over
every database, so SQL names a table ``t_<seq>`` without saying which file it is in.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from ..common import loads
from ..errors import AppwriteError

DDL = """
CREATE TABLE IF NOT EXISTS tdb_databases (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
    enabled INTEGER NOT NULL DEFAULT 1, created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tdb_files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, database_id TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS tdb_tables (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, database_id TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '', enabled INTEGER NOT NULL DEFAULT 1, row_security INTEGER NOT NULL DEFAULT 0,
    permissions TEXT NOT NULL DEFAULT '[]', created TEXT NOT NULL, updated TEXT NOT NULL, UNIQUE (database_id, id));
CREATE TABLE IF NOT EXISTS tdb_columns (
    table_seq INTEGER NOT NULL, key TEXT NOT NULL, position INTEGER NOT NULL, spec TEXT NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL, PRIMARY KEY (table_seq, key));
CREATE TABLE IF NOT EXISTS tdb_indexes (
    table_seq INTEGER NOT NULL, key TEXT NOT NULL, type TEXT NOT NULL, columns TEXT NOT NULL, orders TEXT NOT NULL,
    lengths TEXT NOT NULL, status TEXT NOT NULL, error TEXT NOT NULL DEFAULT '', created TEXT NOT NULL,
    updated TEXT NOT NULL, PRIMARY KEY (table_seq, key));
"""

KEY_PATTERN = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$")
NUMERIC_TYPES = frozenset({"integer", "double"})
SYSTEM_COLUMNS = {"$id": "_uid", "$sequence": "_seq", "$createdAt": "_created", "$updatedAt": "_updated"}


def quote(name: str) -> str:
    """Quote an identifier. Keys are validated against KEY_PATTERN, so they never hold a quote."""
    return '"' + name.replace('"', '""') + '"'


def check_key(key: Any, what: str = "key") -> str:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise AppwriteError(
            400,
            "general_argument_invalid",
            f"Invalid {what}: Parameter must contain at most 36 chars. Valid chars are a-z, A-Z, 0-9, period, "
            "hyphen, and underscore. Can't start with a special char",
        )
    return key


@dataclass(frozen=True)
class Column:
    key: str
    type: str  # string, varchar, text, mediumtext, longtext, integer, double, boolean, datetime
    format: str  # "", email, url, enum, ip
    required: bool
    array: bool
    default: Any
    spec: dict  # everything as stored (size, min, max, elements, encrypt, description)
    created: str
    updated: str

    @property
    def sql_type(self) -> str:
        if self.array:
            return "TEXT"
        return {"integer": "INTEGER", "double": "REAL", "boolean": "INTEGER"}.get(self.type, "TEXT")


@dataclass(frozen=True)
class Index:
    key: str
    type: str  # key, unique, fulltext
    columns: list[str]
    orders: list[str]
    lengths: list[int]
    status: str
    error: str
    created: str
    updated: str


@dataclass
class TableMeta:
    """One table's metadata; cached per table and replaced whenever its schema changes."""

    seq: int
    database_id: str
    id: str
    name: str
    description: str
    enabled: bool
    row_security: bool
    permissions: list[str]
    created: str
    updated: str
    columns: dict[str, Column] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)
    file: int | None = None  # the database's file (``tdb_files.seq``); None: a table in the stack file

    @property
    def schema(self) -> str:
        """The name the database's file is attached under in a stack-file write (``files.alias``)."""
        return "main" if self.file is None else f"d{self.file}"

    def __post_init__(self) -> None:
        self.physical = f"t_{self.seq}"
        cols = "".join(", " + quote(key) for key in self.columns)
        self.select_sql = f"SELECT _seq, _uid, _created, _updated, _perms{cols} FROM {quote(self.physical)}"
        self.lower_keys = {key.lower(): key for key in self.columns}


def load_table(conn: sqlite3.Connection, database_id: str, table_id: str) -> TableMeta:
    """Read a table's metadata, or raise Appwrite's 404 for the missing database or table."""
    row = conn.execute(
        "SELECT t.*, f.seq AS file FROM tdb_tables t LEFT JOIN tdb_files f ON f.database_id = t.database_id "
        "WHERE t.database_id = ? AND t.id = ?", (database_id, table_id),
    ).fetchone()
    if row is None:
        require_database(conn, database_id)
        raise AppwriteError(404, "table_not_found", "Table with the requested ID could not be found.")
    columns = {
        c["key"]: column_from_row(c)
        for c in conn.execute("SELECT * FROM tdb_columns WHERE table_seq = ? ORDER BY position", (row["seq"],))
    }
    indexes = [
        Index(i["key"], i["type"], loads(i["columns"]), loads(i["orders"]), loads(i["lengths"]), i["status"],
              i["error"], i["created"], i["updated"])
        for i in conn.execute("SELECT * FROM tdb_indexes WHERE table_seq = ? ORDER BY rowid", (row["seq"],))
    ]
    return TableMeta(
        row["seq"], database_id, table_id, row["name"], row["description"], bool(row["enabled"]),
        bool(row["row_security"]), loads(row["permissions"], []), row["created"], row["updated"], columns, indexes,
        row["file"],
    )


def column_from_row(row: sqlite3.Row) -> Column:
    spec = loads(row["spec"])
    return Column(
        row["key"], spec["type"], spec.get("format", ""), bool(spec.get("required")), bool(spec.get("array")),
        spec.get("default"), spec, row["created"], row["updated"],
    )


def require_database(conn: sqlite3.Connection, database_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM tdb_databases WHERE id = ?", (database_id,)).fetchone()
    if row is None:
        raise AppwriteError(404, "database_not_found", "Database not found")
    return row


def create_physical_table(conn: sqlite3.Connection, seq: int, columns: list[Column] | None = None,
                          schema: str = "main") -> None:
    """One ``CREATE TABLE`` with the internal columns and ``columns`` (no ``ALTER TABLE`` per column,
    each of which makes SQLite re-parse the whole schema), in the file attached as ``schema``."""
    own = "".join(f", {quote(c.key)} {c.sql_type}" for c in columns or ())
    conn.execute(
        f"CREATE TABLE {quote(schema)}.{quote(f't_{seq}')} "
        "(_seq INTEGER PRIMARY KEY AUTOINCREMENT, _uid TEXT NOT NULL UNIQUE, "
        "_created TEXT NOT NULL, _updated TEXT NOT NULL, _perms TEXT NOT NULL DEFAULT '[]', "
        f"_version INTEGER NOT NULL DEFAULT 1{own})"
    )


def drop_physical_table(conn: sqlite3.Connection, seq: int, *, physical: bool = True) -> None:
    """Forget a table's columns and indexes and (``physical``) drop it from whichever attached file holds it."""
    if physical:
        conn.execute(f"DROP TABLE IF EXISTS {quote(f't_{seq}')}")
    conn.execute("DELETE FROM tdb_columns WHERE table_seq = ?", (seq,))
    conn.execute("DELETE FROM tdb_indexes WHERE table_seq = ?", (seq,))


def index_name(seq: int, key: str) -> str:
    return quote(f"ix_{seq}_{key}")


def create_physical_index(conn: sqlite3.Connection, meta: TableMeta, index: Index) -> None:
    """Build the SQLite index; fulltext indexes have none (``search`` scans with ``instr``)."""
    if index.type == "fulltext":
        return
    descending = [str(o).upper() == "DESC" for o in index.orders]
    parts = [
        quote(SYSTEM_COLUMNS.get(col, col)) + (" DESC" if i < len(descending) and descending[i] else "")
        for i, col in enumerate(index.columns)
    ]
    unique = "UNIQUE " if index.type == "unique" else ""
    conn.execute(
        f"CREATE {unique}INDEX IF NOT EXISTS {quote(meta.schema)}.{index_name(meta.seq, index.key)} "
        f"ON {quote(meta.physical)} "
        f"({', '.join(parts)})"
    )
