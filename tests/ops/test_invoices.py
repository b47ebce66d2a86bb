"""Platform billing on the local stack: a month's invoice per tenant (usage from its ledger, consultas,
orders and audit; the platform's fee model) equals what the tenant's own ledger says for that month,
as JSON and CSV; the usage record is written; platform admins only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.credits.ledger import EFFECT
from tests.conftest import make_client
from tests.ops.test_backup_restore import consulta
from tests.payments.stack_support import deliver_all
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for, unique_suffix


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("inv"))
    analyst = add_member(owner, "analyst")
    assert owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 300,
                                                     "reason": "invoice"}).status == 201
    order = analyst.call("billing", "POST", "/orders", {"package_id": "pkg-50", "method": "pix"},
                         headers={"idempotency-key": f"buy-{unique_suffix()}"}).body["order"]
    assert analyst.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order["id"]},
                        tenant=tenant_id).status == 200
    deliver_all(stack, tenant_id, order["id"])
    consulta(analyst)
    consulta(analyst)
    settings = admin.call("tenants", "GET", "/settings").body["settings"]
    changed = admin.call("tenants", "PATCH", "/settings", {"platform_fee_per_consulta_cents": 15,
                                                           "platform_fee_revenue_bp": 500})
    assert changed.status == 200, changed
    yield {"admin": admin, "tenant": tenant_id, "owner": owner, "order": order}
    admin.call("tenants", "PATCH", "/settings", {key: settings.get(key, 0) for key in
                                                 ("platform_fee_per_consulta_cents", "platform_fee_revenue_bp")})


@pytest.mark.slow
def test_the_invoice_reconciles_with_the_tenants_ledger(stack, world):
    period = datetime.now(UTC).strftime("%Y-%m")
    result = world["admin"].call("ops", "GET", f"/invoices?period={period}&tenant_id={world['tenant']}")
    assert result.status == 200, result
    (item,) = result.unwrapped("invoice_report").body["invoices"]
    ledger = world["owner"].call("billing", "GET", "/ledger?limit=100").body["items"]
    by_type: dict[str, int] = {}
    for entry in ledger:
        by_type[entry["type"]] = by_type.get(entry["type"], 0) + entry["amount_credits"]
    assert item["ledger"] == {kind: by_type.get(kind, 0) for kind in EFFECT}
    assert item["credits_spent"] == by_type["debit"] and item["credits_sold"] == by_type["purchase"] == 50
    assert item["ledger_net"] == sum(EFFECT[k] * v for k, v in by_type.items())
    wallets = TablesDB(make_client(stack)).list_rows(f"tenant_{world['tenant']}", "wallets", [Query.limit(100)]).rows
    assert item["ledger_net"] == sum(w.data["balance"] for w in wallets)  # everything happened this month
    assert item["consultas"] == 2 and item["categories"]["cadastral"]["credits"] == by_type["debit"]
    assert item["revenue_cents"] == world["order"]["amount_cents"]
    assert item["platform_fee"]["total_cents"] == 2 * 15 + world["order"]["amount_cents"] * 500 // 10_000

    as_csv = world["admin"].call("ops", "GET", f"/invoices?period={period}&tenant_id={world['tenant']}&format=csv")
    assert as_csv.status == 200 and as_csv.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(as_csv.raw)))
    assert int(row["credits_spent"]) == item["credits_spent"]
    assert int(row["fee_total_cents"]) == item["platform_fee"]["total_cents"]

    as_pdf = world["admin"].call("ops", "GET", f"/invoices?period={period}&tenant_id={world['tenant']}&format=pdf")
    assert as_pdf.status == 200 and as_pdf.headers["content-type"].startswith("application/pdf")

    everyone = world["admin"].call("ops", "GET", f"/invoices?period={period}").unwrapped("invoice_report")
    assert world["tenant"] in {i["tenant_id"] for i in everyone.body["invoices"]}
    earlier = world["admin"].call("ops", "GET", f"/invoices?period=2020-01&tenant_id={world['tenant']}")
    earlier = earlier.unwrapped("invoice_report")
    assert earlier.body["invoices"][0]["consultas"] == 0 and earlier.body["total_fee_cents"] == 0


def test_only_platform_admins_and_valid_periods(world):
    assert world["owner"].call("ops", "GET", "/invoices?period=2026-01").status == 403
    bad = world["admin"].call("ops", "GET", "/invoices?period=2026-13")
    assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "period"
    assert world["admin"].call("ops", "GET", "/invoices?period=2026-01&tenant_id=nope-x").status == 404
