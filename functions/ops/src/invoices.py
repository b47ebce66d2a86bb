"""``GET /invoices?period=YYYY-MM[&tenant_id=…][&format=json|csv|pdf]``: the platform's invoice report
(platform admins). Per tenant: the month's usage from its ledger, consultas, orders and audit (so it
reconciles with the ledger by construction) and the fee from the platform's fee model. The running
usage record in core ``platform_usage`` is built from the bus events instead (``GET /usage``).
"""

from __future__ import annotations

from typing import Any, Literal

from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users
from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access, pdf_report, platform_settings
from bigtech.credits.reaper import tenant_ids
from bigtech.errors import NotFound
from bigtech.http import Request, Response, text_response
from bigtech.identity import AppwriteDirectory, resolve
from bigtech.ops.usage import CSV_COLUMNS, invoice, tenant_usage, to_csv
from bigtech.plugins.contract import to_cents
from bigtech.tenancy import find_tenant

READ_ACTION = "platform_invoices.read"


class InvoiceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: str = Field(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description="YYYY-MM (UTC)")
    tenant_id: str | None = Field(None, max_length=36)
    format: Literal["json", "csv", "pdf"] = "json"


def read(request: Request) -> Any:
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    resolve(request.headers, READ_ACTION, AppwriteDirectory(Users(client), tables))
    query = request.query_model(InvoiceQuery)
    if query.tenant_id is not None and find_tenant(tables, query.tenant_id) is None:
        raise NotFound("Tenant not found.", code="tenant_not_found")
    settings, _ = platform_settings.load(tables)
    invoices = []
    for tenant_id in [query.tenant_id] if query.tenant_id else tenant_ids(tables):
        invoices.append(invoice(tenant_usage(tables, tenant_id, query.period), settings))
    if query.format == "csv":
        return text_response(to_csv(invoices), 200, "text/csv; charset=utf-8")
    if query.format == "pdf":
        return Response(200, as_pdf(query.period, invoices), {"content-type": "application/pdf"})
    return {"invoice_report": {"id": query.period, "period": query.period,
                               "invoices": [public_invoice(item) for item in invoices],
                               "total_fee_cents": sum(item["fee"]["total_cents"] for item in invoices),
                               "currency": "BRL"}}


def public_invoice(item: dict[str, Any]) -> dict[str, Any]:
    """One tenant's invoice as JSON (docs/api-style.md): an ``id``, money in integer cents with its currency
    (the CSV keeps ``provider_cost_brl`` and ``fee_*`` columns for spreadsheets)."""
    shown = {key: value for key, value in item.items() if key not in ("fee", "provider_cost_brl")}
    return {"id": f"{item['tenant_id']}-{item['period']}", **shown,
            "provider_cost_cents": to_cents(item["provider_cost_brl"]),
            "platform_fee": {**item["fee"], "currency": "BRL"}, "currency": "BRL"}


def as_pdf(period: str, invoices: list[dict[str, Any]]) -> bytes:
    rows = [line.split(",") for line in to_csv(invoices).splitlines()[1:]]
    total = sum(item["fee"]["total_cents"] for item in invoices)
    facts = [("Period", period), ("Tenants", len(invoices)), ("Total platform fee", f"BRL {total / 100:.2f}")]
    return pdf_report.render("Bigtech platform invoice report", facts, CSV_COLUMNS, rows)
