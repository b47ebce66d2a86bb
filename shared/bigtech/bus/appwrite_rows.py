"""Small TablesDB helpers shared by the bus's Appwrite-backed stores.

Rows are read as plain dicts through the SDK client's own `call`, not through `TablesDB.list_rows`: SDK 27's
`Row.with_data` drops a column named `data` (it treats it as the nested-payload key), and the outbox's envelope
body lives in exactly such a column. Everything else goes through the `TablesDB` service as usual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .errors import BusError

QUERY_VALUES_MAX = 100  # Appwrite caps the values of one query (and a page) at 100 here


class StoreUnavailable(BusError):
    """TablesDB refused or could not be reached; the relay reports it and the next run tries again."""

    status = 503
    default_code = "store_unavailable"
    default_message = "The event store (TablesDB) is unavailable."


def list_raw(tables: TablesDB, database_id: str, table_id: str, queries: Sequence[str]) -> list[dict[str, Any]]:
    """`list_rows` answered as plain dicts (every column kept)."""
    client = tables.client
    response = client.call(
        "get",
        f"/tablesdb/{database_id}/tables/{table_id}/rows",
        {"X-Appwrite-Project": client.get_config("project"), "accept": "application/json"},
        {"queries": list(queries), "total": False},
    )
    return list(response.get("rows") or [])


def chunks(items: Sequence[Any], size: int = QUERY_VALUES_MAX) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


def epoch(value: Any) -> float | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()


def all_ids(tables: TablesDB, database_id: str, table_id: str, queries: Iterable[str] = ()) -> list[str]:
    """Every row id of a table (cursor-paginated), e.g. the tenants of the core database."""
    ids: list[str] = []
    cursor: str | None = None
    while True:
        page = [*queries, Query.select(["$id"]), Query.limit(QUERY_VALUES_MAX)]
        if cursor:
            page.append(Query.cursor_after(cursor))
        rows = tables.list_rows(database_id, table_id, page, total=False).rows
        ids.extend(row.id for row in rows)
        if len(rows) < QUERY_VALUES_MAX:
            return ids
        cursor = rows[-1].id


def is_missing(error: AppwriteException) -> bool:
    """The database or table does not exist (yet): a tenant being created, or a stack without the core db."""
    return error.code == 404


def unavailable(action: str, error: Exception) -> StoreUnavailable:
    code = getattr(error, "code", None)
    kind = getattr(error, "type", None)
    return StoreUnavailable(f"{action} failed: {code} {kind}: {error}"[:500])
