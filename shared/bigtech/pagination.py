"""Cursor pagination for list routes (docs/api-style.md): ``?limit=&cursor=&total=`` in, ``{items, next_cursor,
total?}`` out.

``total`` (how many items match the filters, over all pages) is counted only when asked with
``?total=true``: the list call then passes ``total=page.total`` to Appwrite and hands the answer's
``total`` to ``paginate`` (``page_of`` does both for a ``list_rows`` answer).

The cursor is the id of the last item of the previous page; one extra item is fetched to know whether
a next page exists, so ``next_cursor`` is ``null`` exactly on the last page. A cursor Appwrite does not
know (another tenant's id, a made-up one) is a 422 on ``cursor``, never a 500.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from appwrite.exception import AppwriteException
from appwrite.query import Query
from pydantic import BaseModel, ConfigDict, Field

from .errors import Unprocessable

T = TypeVar("T")

DEFAULT_LIMIT = 25
MAX_LIMIT = 100
ID_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}$"


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, pattern=ID_PATTERN)
    total: bool = False  # ``?total=true``: also count every matching item


def page_queries(page: PageQuery) -> list[str]:
    """``limit + 1`` and the cursor, to append to a list call's queries."""
    queries = [Query.limit(page.limit + 1)]
    if page.cursor:
        queries.append(Query.cursor_after(page.cursor))
    return queries


def paginate(items: Sequence[T], page: PageQuery, render: Callable[[T], Any], key: Callable[[T], str],
             total: float | None = None) -> dict:  # the SDK types a list's total as float
    """``{items, next_cursor}`` from a list fetched with ``page_queries``, plus ``total`` when the page asked
    for it (``total`` is then required: the count of every matching item, not only this page's)."""
    shown = list(items[: page.limit])
    more = len(items) > page.limit
    body: dict[str, Any] = {"items": [render(item) for item in shown],
                            "next_cursor": key(shown[-1]) if more and shown else None}
    if page.total:
        body["total"] = int(total if total is not None else len(items))
    return body


def page_of(listed: Any, page: PageQuery, render: Callable[[Any], Any],
            key: Callable[[Any], str] | None = None) -> dict:
    """``paginate`` over a ``list_rows`` answer fetched with ``total=page.total``."""
    return paginate(listed.rows, page, render, key or (lambda row: row.id), total=listed.total if page.total else None)


def unpaged(items: Sequence[Any], query: Any) -> dict:
    """A list that always fits one page (a catalogue): ``{items, next_cursor: null}``, and ``total`` on request."""
    body: dict[str, Any] = {"items": list(items), "next_cursor": None}
    if getattr(query, "total", False):
        body["total"] = len(items)
    return body


def listing(call: Callable[[], T]) -> T:
    """Run a list call, turning Appwrite's unknown-cursor / bad-query errors into a 422 on ``cursor``."""
    try:
        return call()
    except AppwriteException as error:
        if error.code == 400 and error.type in {"general_cursor_not_found", "general_query_invalid"}:
            raise Unprocessable.field("cursor", "Unknown cursor.", code="invalid_cursor") from None
        raise


def created_between(since: datetime | None, until: datetime | None) -> list[str]:
    """The ``from``/``to`` filter every history shares: ``since`` inclusive, ``until`` exclusive, in UTC."""
    queries = []
    if since:
        queries.append(Query.greater_than_equal("$createdAt", since.astimezone(UTC).isoformat()))
    if until:
        queries.append(Query.less_than("$createdAt", until.astimezone(UTC).isoformat()))
    return queries


def newest_first(page: PageQuery) -> list[str]:
    """Order by insertion, newest first (``$sequence`` is unique, so cursors are stable), then the page."""
    return [Query.order_desc("$sequence"), *page_queries(page)]
