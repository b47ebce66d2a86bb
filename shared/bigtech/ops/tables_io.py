"""Read a table's rows out of Appwrite and write them back, in as few calls as Appwrite allows.

Reading pages with a cursor (``PAGE`` rows a call, ordered by ``$sequence`` so a restore re-creates
rows in their original order); writing uses bulk ``create_rows`` (``BATCH`` rows a call) and keeps each
row's id, permissions and timestamps (an API key may set ``$createdAt``/``$updatedAt`` on create), so
history ordered by time reads the same after a restore.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

PAGE = 1000  # Appwrite caps a page at 5000; 1000 keeps each response small
BATCH = 500  # rows per bulk create
KEPT_SYSTEM = ("$id", "$createdAt", "$updatedAt", "$permissions")


def row_record(row: Any) -> dict[str, Any]:
    """A row as stored in a backup: its columns plus id, timestamps and permissions."""
    data = row.data if hasattr(row, "data") else dict(row)
    record = {key: value for key, value in data.items() if not key.startswith("$")}
    record["$id"] = row.id if hasattr(row, "id") else data["$id"]
    record["$createdAt"] = getattr(row, "createdat", None) or data.get("$createdAt")
    record["$updatedAt"] = getattr(row, "updatedat", None) or data.get("$updatedAt")
    record["$permissions"] = list(getattr(row, "permissions", None) or data.get("$permissions") or [])
    return record


class CallCounter:
    """Counts Appwrite calls made through it (the benchmark and the progress lines report them)."""

    def __init__(self) -> None:
        self.calls = 0


def read_rows(tables: TablesDB, database_id: str, table_id: str, filters: list[str] | None = None,
              counter: CallCounter | None = None) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        queries = [*(filters or []), Query.order_asc("$sequence"), Query.limit(PAGE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        if counter:
            counter.calls += 1
        rows = tables.list_rows(database_id, table_id, queries, total=False).rows
        for row in rows:
            yield row_record(row)
        if len(rows) < PAGE:
            return
        cursor = rows[-1].id


def count_rows(tables: TablesDB, database_id: str, table_id: str, filters: list[str] | None = None,
               counter: CallCounter | None = None) -> int:
    if counter:
        counter.calls += 1
    return int(tables.list_rows(database_id, table_id, [*(filters or []), Query.limit(1)], total=True).total)


def write_rows(tables: TablesDB, database_id: str, table_id: str, rows: list[dict[str, Any]],
               counter: CallCounter | None = None) -> int:
    for start in range(0, len(rows), BATCH):
        if counter:
            counter.calls += 1
        tables.create_rows(database_id, table_id, rows[start:start + BATCH])
    return len(rows)
