"""``GET /usage?period=YYYY-MM[&tenant_id=…]`` (platform admins): per tenant, the month's consultas by
category, credits spent, sold and granted, and payments by outcome — read from the core
``platform_usage`` rows the bus events built (``bigtech.ops.usage_events``), one call per 100 rows,
never a tenant database. The invoice report (``GET /invoices``) stays the ledger-reconciled figure."""

from __future__ import annotations

from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users
from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access
from bigtech.http import Request
from bigtech.identity import AppwriteDirectory, resolve
from bigtech.ops.tables_io import read_rows
from bigtech.ops.usage_events import USAGE_TABLE
from bigtech.schema.core import CORE_DATABASE_ID

READ_ACTION = "platform_usage.read"


class UsageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM (UTC)")
    tenant_id: str | None = Field(None, min_length=1, max_length=36, pattern=r"^[a-z0-9][a-z0-9-]*$")


def empty(tenant_id: str, period: str) -> dict[str, Any]:
    return {"tenant_id": tenant_id, "period": period, "consultas": 0, "credits_spent": 0, "credits_sold": 0,
            "credits_granted": 0, "categories": {}, "payments": {}}


def summarise(rows: list[dict[str, Any]], period: str) -> list[dict[str, Any]]:
    tenants: dict[str, dict[str, Any]] = {}
    for row in rows:
        item = tenants.setdefault(row["tenant_id"], empty(row["tenant_id"], period))
        group, _, name = str(row["category"]).partition(":")
        count, credits = int(row.get("count") or 0), int(row.get("credits") or 0)
        if group == "consultas":
            item["categories"][name] = {"count": count, "credits": credits}
            item["consultas"] += count
            item["credits_spent"] += credits
        elif group == "credits":
            item[f"credits_{name}"] = credits
        elif group == "payments":
            item["payments"][name] = {"count": count, "amount_cents": int(row.get("amount_cents") or 0),
                                      "currency": "BRL"}
    return [tenants[key] for key in sorted(tenants)]


def read(request: Request) -> Any:
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    resolve(request.headers, READ_ACTION, AppwriteDirectory(Users(client), tables))
    query = request.query_model(UsageQuery)
    filters = [Query.equal("period", query.period)]
    if query.tenant_id:
        filters.append(Query.equal("tenant_id", query.tenant_id))
    items = summarise(list(read_rows(tables, CORE_DATABASE_ID, USAGE_TABLE, filters)), query.period)
    if query.tenant_id and not items:
        items = [empty(query.tenant_id, query.period)]
    # one report, wrapped by its name (docs/api-style.md); its id is the period it covers
    return {"usage": {"id": query.period, "period": query.period, "source": "events", "tenants": items}}
