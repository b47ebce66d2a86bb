"""TablesDB: rows created and read per second through the SDK over HTTP (one client, sequential)."""

from __future__ import annotations

import time
import warnings
from itertools import count

from appwrite.id import ID
from appwrite.services.tables_db import TablesDB

from .support import client_for, private_stack, timed

ROWS = 300


def wait_for_columns(tables: TablesDB, database_id: str, table_id: str, timeout: float = 10.0) -> None:
    """Appwrite creates columns asynchronously; wait until all are ``available``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        columns = tables.list_columns(database_id, table_id).columns
        statuses = [getattr(c, "status", "available") for c in columns]
        if all(getattr(status, "value", status) == "available" for status in statuses):
            return
        time.sleep(0.05)
    raise TimeoutError("columns never became available")


def run(report) -> None:  # type: ignore[no-untyped-def]
    with private_stack() as stack:
        tables = TablesDB(client_for(stack))
        tables.create("bench", "bench")
        tables.create_table("bench", "items", "items")
        # string columns are deprecated since 1.9 (the SDK warns every call), but they are what the CLI 12
        # can push and so what Bigtech's schema uses.
        with warnings.catch_warnings(record=True):  # the SDK forces its warning past plain filters
            tables.create_string_column("bench", "items", "name", 64, True)
        tables.create_integer_column("bench", "items", "quantity", True)
        wait_for_columns(tables, "bench", "items")

        ids: list[str] = []
        numbers = count()

        def create() -> None:
            row = tables.create_row("bench", "items", ID.unique(), {"name": "item", "quantity": next(numbers)})
            ids.append(row.id)

        report.timings("create_row", timed(create, ROWS))
        cursor = iter(ids)
        report.timings("get_row", timed(lambda: tables.get_row("bench", "items", next(cursor)), len(ids)))
