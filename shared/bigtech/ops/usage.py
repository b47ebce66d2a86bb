"""Platform billing ("billing global"): a tenant's monthly usage, the platform fee, and the invoice.

Usage is read from the tenant's own records for the month (UTC), so it reconciles with them by
construction and can be rebuilt at any time:

- **ledger** (the money truth): credits per entry type — ``purchase`` (sold), ``debit`` (spent on
  consultas), ``grant``, ``refund``, ``chargeback``, ``hold``, ``release`` — and the net movement;
- **consultas** by category: how many ran and the credits they cost (settled ones, status ≠ failed);
- **orders** paid in the month: revenue in cents (paid minus refunded);
- **provider cost**: the sum of ``provider_cost`` in the month's ``consultas.create`` audit entries
  (decimal BRL, as the plugins report it).

The fee model lives in platform settings: ``platform_fee_per_consulta_cents`` per billable consulta
plus ``platform_fee_revenue_bp`` basis points of the revenue. The running usage record (core
``platform_usage``) is built from the bus events as they happen (``bigtech.ops.usage_events``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..credits.ledger import EFFECT
from ..platform_settings import PlatformSettings
from ..schema.tenant import CATEGORIES, LEDGER_TYPES, tenant_database_id
from .tables_io import read_rows

BILLABLE_STATUSES = ("succeeded", "not_found")


def month_bounds(period: str) -> tuple[str, str]:
    """``YYYY-MM`` → [start, end) in Appwrite's datetime form; ``ValueError`` when malformed."""
    start = datetime.strptime(period, "%Y-%m").replace(tzinfo=UTC)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.isoformat(timespec="milliseconds"), end.isoformat(timespec="milliseconds")


def _in_month(period: str, column: str = "$createdAt") -> list[str]:
    start, end = month_bounds(period)
    return [Query.greater_than_equal(column, start), Query.less_than(column, end)]


def tenant_usage(tables: TablesDB, tenant_id: str, period: str) -> dict[str, Any]:
    database_id = tenant_database_id(tenant_id)
    ledger = {kind: 0 for kind in LEDGER_TYPES}
    entries = 0
    for row in read_rows(tables, database_id, "ledger", _in_month(period)):
        ledger[row["type"]] = ledger.get(row["type"], 0) + int(row["amount"])
        entries += 1
    categories = {category: {"count": 0, "credits": 0} for category in CATEGORIES}
    for row in read_rows(tables, database_id, "consultas", _in_month(period)):
        if row.get("status") in BILLABLE_STATUSES:
            slot = categories.setdefault(row["category"], {"count": 0, "credits": 0})
            slot["count"] += 1
            slot["credits"] += int(row.get("cost") or 0)
    revenue = 0
    for row in read_rows(tables, database_id, "orders", _in_month(period, "paid_at")):
        revenue += int(row.get("paid_cents") or row.get("amount_cents") or 0) - int(row.get("refunded_cents") or 0)
    provider_cost = Decimal("0")
    for row in read_rows(tables, database_id, "audit", [*_in_month(period, "occurred_at"),
                                                        Query.equal("action", "consultas.create")]):
        try:
            provider_cost += Decimal(str(json.loads(row.get("details") or "{}").get("provider_cost") or "0"))
        except (InvalidOperation, ValueError):
            continue
    return {
        "tenant_id": tenant_id, "period": period, "ledger": ledger, "ledger_entries": entries,
        "ledger_net": sum(EFFECT[kind] * amount for kind, amount in ledger.items()),
        "credits_sold": ledger["purchase"], "credits_spent": ledger["debit"], "categories": categories,
        "consultas": sum(slot["count"] for slot in categories.values()),
        "revenue_cents": revenue, "provider_cost_brl": str(provider_cost),
    }


def invoice(usage: dict[str, Any], settings: PlatformSettings) -> dict[str, Any]:
    per_consulta = settings.platform_fee_per_consulta_cents * usage["consultas"]
    share = usage["revenue_cents"] * settings.platform_fee_revenue_bp // 10_000
    return {**usage, "fee": {"per_consulta_cents": settings.platform_fee_per_consulta_cents,
                             "revenue_bp": settings.platform_fee_revenue_bp, "consultas_cents": per_consulta,
                             "revenue_share_cents": share, "total_cents": per_consulta + share}}


CSV_COLUMNS = ("tenant_id", "period", "consultas", "credits_sold", "credits_spent", "ledger_net", "revenue_cents",
               "provider_cost_brl", "fee_consultas_cents", "fee_revenue_share_cents", "fee_total_cents")


def to_csv(invoices: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in invoices:
        fee = item["fee"]
        writer.writerow([item["tenant_id"], item["period"], item["consultas"], item["credits_sold"],
                         item["credits_spent"], item["ledger_net"], item["revenue_cents"], item["provider_cost_brl"],
                         fee["consultas_cents"], fee["revenue_share_cents"], fee["total_cents"]])
    return out.getvalue()
