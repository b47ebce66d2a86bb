"""The public API (``/v1/*``), called with an API key over the function's domain.

``POST /v1/consultas`` runs CORE's consulta flow (``consulta_seam``); the reads show only what this key
did, and only in the key's tenant: another key's consulta is 404 here, like another tenant's.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access
from bigtech.credits import read_wallet
from bigtech.errors import NotFound
from bigtech.http import Request
from bigtech.pagination import ID_PATTERN, PageQuery, listing, newest_first, page_of
from bigtech.schema.tenant import tenant_database_id

from . import callbacks, consulta_seam
from .gate import current_key, require_scope
from .keys import CATEGORIES

TABLE = "consultas"
USAGE_PAGE = 100
MAX_USAGE_ROWS = 5000


def _public(row: Any, with_result: bool = True) -> dict[str, Any]:
    public = consulta_seam.render().to_public(row, with_result=with_result)
    public["api_key_id"] = row.data.get("api_key_id")
    public["price_tier"] = row.data.get("price_tier")
    return public


def create_consulta(request: Request) -> Any:
    key = current_key(request)
    try:
        body = json.loads(request.text() or "null")
    except ValueError:
        body = None
    category = body.get("category") if isinstance(body, dict) else None
    if category in CATEGORIES:  # anything else: the flow's own validation answers 422
        require_scope(key, f"consultas:{category}")
    if isinstance(body, dict) and "callback_url" in body:  # async: 202 now, the outcome to the callback
        consulta_seam.validate({k: v for k, v in body.items() if k != "callback_url"})
        return callbacks.accept(request, key, body)
    return consulta_seam.run_consulta(request, key, appwrite_access.tables(request))


class ConsultaPath(BaseModel):
    consulta_id: str = Field(pattern=ID_PATTERN)


def read_consulta(request: Request, consulta_id: str) -> Any:
    key = current_key(request)
    consulta_id = ConsultaPath.model_validate({"consulta_id": consulta_id}).consulta_id
    tables = appwrite_access.tables(request)
    try:
        row = tables.get_row(tenant_database_id(key.tenant_id), TABLE, consulta_id)
    except AppwriteException as error:
        if error.code == 404:
            raise NotFound("Consulta not found.", code="consulta_not_found") from None
        raise
    if row.data.get("api_key_id") != key.id:
        raise NotFound("Consulta not found.", code="consulta_not_found")
    return {"consulta": _public(row)}


class ListQuery(PageQuery):
    model_config = ConfigDict(extra="ignore")


def list_consultas(request: Request) -> Any:
    key = current_key(request)
    query = request.query_model(ListQuery)
    tables = appwrite_access.tables(request)
    queries = [Query.equal("api_key_id", [key.id]), *newest_first(query)]
    listed = listing(lambda: tables.list_rows(tenant_database_id(key.tenant_id), TABLE, queries, total=query.total))
    return page_of(listed, query, lambda row: _public(row, with_result=False))


def balance(request: Request) -> Any:
    key = current_key(request)
    wallet = read_wallet(appwrite_access.tables(request), tenant_database_id(key.tenant_id), key.wallet_id)
    return {"balance": {"id": key.wallet_id, "wallet_id": key.wallet_id, "balance": wallet.balance,
                        "held": wallet.held, "available": wallet.balance, "updated_at": wallet.updated_at}}


class UsageQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    days: int = Field(30, ge=1, le=92)


def usage(request: Request) -> Any:
    """This key's consultas per UTC day and category over the last ``days``: count and credits charged."""
    key = current_key(request)
    query = request.query_model(UsageQuery)
    tables = appwrite_access.tables(request)
    since = (datetime.now(UTC) - timedelta(days=query.days)).replace(hour=0, minute=0, second=0, microsecond=0)
    totals: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"count": 0, "credits": 0, "tiers": set()})
    cursor: str | None = None
    seen = 0
    while seen < MAX_USAGE_ROWS:
        queries = [Query.equal("api_key_id", [key.id]), Query.greater_than_equal("$createdAt", since.isoformat()),
                   Query.order_asc("$createdAt"), Query.limit(USAGE_PAGE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        rows = tables.list_rows(tenant_database_id(key.tenant_id), TABLE, queries, total=False).rows
        for row in rows:
            day = str(row.createdat or "")[:10]
            bucket = totals[(day, row.data.get("category") or "")]
            bucket["count"] += 1
            bucket["credits"] += int(row.data.get("cost") or 0)
            if row.data.get("price_tier"):
                bucket["tiers"].add(row.data["price_tier"])
        seen += len(rows)
        if len(rows) < USAGE_PAGE:
            break
        cursor = rows[-1].id
    items = [{"day": day, "category": category, "count": b["count"], "credits": b["credits"],
              "tiers": sorted(b["tiers"])} for (day, category), b in sorted(totals.items())]
    # a report, so one resource (docs/api-style.md): its rows are not a page of a list
    return {"usage": {"id": key.id, "api_key_id": key.id, "since": since.date().isoformat(), "rows": items,
                      "totals": {"count": sum(i["count"] for i in items),
                                 "credits": sum(i["credits"] for i in items)},
                      "truncated": seen >= MAX_USAGE_ROWS}}
