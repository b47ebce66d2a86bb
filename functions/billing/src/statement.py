"""``GET /ledger``: the statement, newest first, filtered and paginated (``{items, next_cursor}``).

Members see their own entries; owners/admins see every member's (or one with ``user_id``).
Filters: ``type`` (repeatable), ``reference_id``, ``from``/``to`` (ISO 8601 on the entry's creation).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from appwrite.query import Query
from pydantic import ConfigDict, Field

from bigtech import appwrite_access
from bigtech.credits import ledger
from bigtech.http import Request
from bigtech.identity import current
from bigtech.pagination import ID_PATTERN, PageQuery, created_between, listing, newest_first, page_of

from .access import is_manager, wallet_owner

LedgerType = Literal["grant", "purchase", "hold", "debit", "release", "refund", "chargeback"]


class LedgerQuery(PageQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    user_id: str | None = Field(None, pattern=ID_PATTERN)
    type: LedgerType | None = None
    reference_id: str | None = Field(None, pattern=ID_PATTERN)
    since: datetime | None = Field(None, alias="from")
    until: datetime | None = Field(None, alias="to")


def list_entries(request: Request) -> Any:
    query = request.query_model(LedgerQuery)
    types = request.query_list("type")
    identity = current(request)
    queries = []
    if query.user_id or not is_manager(identity):
        queries.append(Query.equal("wallet_id", [wallet_owner(identity, query.user_id)]))
    if types:
        for kind in types:  # each must be a known type (422 otherwise)
            LedgerQuery.model_validate({"type": kind})
        queries.append(Query.equal("type", types))
    if query.reference_id:
        queries.append(Query.equal("reference_id", [query.reference_id]))
    queries += [*created_between(query.since, query.until), *newest_first(query)]
    tables = appwrite_access.tables(request)
    listed = listing(lambda: tables.list_rows(identity.database_id, ledger.TABLE, queries, total=query.total))
    return page_of(listed, query, ledger.to_public)
