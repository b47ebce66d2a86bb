"""Platform usage and business metrics built from the bus events (the ``ops`` function subscribes to
consulta.*, credits.* and payment.*): after a purchase, a grant and consultas, the relay delivers the
events, the platform admin's ``GET /ops/usage`` shows them per tenant — equal to the ledger-built invoice
— and the metrics function serves the counters (consultas by category and status, credits sold/spent,
payments by gateway and outcome, refused payment webhooks, backup age, relay lag), in a number of
Appwrite calls per scrape that does not grow with the tenants. A redelivered event counts once."""

from __future__ import annotations

import importlib
import time
from datetime import UTC, datetime

import pytest
from appwrite.services.tables_db import TablesDB

from bigtech.bus.envelope import EventEnvelope
from bigtech.documents import cpf_check_digits
from bigtech.ops.schedule import run_backups
from bigtech.ops.usage_events import effects
from bigtech.outbox_writer import envelope_from_row
from tests.conftest import make_client
from tests.ops.test_metrics import TOKEN, samples, scrape, value
from tests.payments.stack_support import outbox
from tests.support.actors import add_member, call, create_tenant, platform_admin, tenant_id_for, unique_suffix

CPF = "529982247" + cpf_check_digits("529982247")


def relay_until(stack, admin, tenant_id: str, period: str, done, timeout: float = 60.0) -> dict:
    """Run the relay for the tenant (the outbox events may already be on their way) until ``done(usage)``."""
    deadline = time.monotonic() + timeout
    while True:
        call(stack, None, "relay", "POST", "/", {"tenant_id": tenant_id})
        answer = admin.call("ops", "GET", f"/usage?period={period}&tenant_id={tenant_id}")
        assert answer.status == 200, answer
        usage = answer.body["usage"]["tenants"][0]
        if done(usage):
            return usage
        assert time.monotonic() < deadline, usage
        time.sleep(0.5)


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("us"))
    analyst = add_member(owner, "analyst")
    return {"admin": admin, "tenant": tenant_id, "owner": owner, "analyst": analyst}


def test_usage_and_business_counters_come_from_the_events(stack, world, monkeypatch, store):
    monkeypatch.setenv("BIGTECH_METRICS_TOKEN", TOKEN)
    admin, owner, analyst, tenant_id = world["admin"], world["owner"], world["analyst"], world["tenant"]
    before = samples(scrape(stack)[1])
    assert owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 300,
                                                     "reason": "usage test"}).status == 201
    order = analyst.call("billing", "POST", "/orders", {"package_id": "pkg-50", "method": "pix"},
                         headers={"idempotency-key": f"o-{unique_suffix()}"}).body["order"]
    assert analyst.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order["id"]},
                        tenant=tenant_id).status == 200
    costs = []
    for _ in range(2):
        done = analyst.call("consultas", "POST", "/", {"category": "cadastral", "document": CPF,
                                                       "purpose": "usage test", "legal_basis": "protecao_credito"},
                            headers={"idempotency-key": f"c-{unique_suffix()}"})
        assert done.status in (200, 201), done
        costs.append(done.body["consulta"]["cost_credits"])
    refused = call(stack, None, "pagamento-sandbox", "POST", f"/webhook/{tenant_id}", {"forged": True},
                   headers={"content-type": "application/json"})
    assert refused.status in (400, 401), refused
    period = datetime.now(UTC).strftime("%Y-%m")

    usage = relay_until(stack, admin, tenant_id, period,
                        lambda u: u["consultas"] == 2 and u["credits_sold"] == 50 and u["payments"])
    assert usage["credits_granted"] == 300 and usage["credits_spent"] == sum(costs) > 0
    assert usage["categories"]["cadastral"] == {"count": 2, "credits": sum(costs)}
    assert usage["payments"]["confirmed"] == {"count": 1, "amount_cents": order["amount_cents"], "currency": "BRL"}

    invoice = admin.call("ops", "GET", f"/invoices?period={period}&tenant_id={tenant_id}"
                         ).body["invoice_report"]["invoices"][0]
    assert (invoice["consultas"], invoice["credits_spent"], invoice["credits_sold"]) == (
        usage["consultas"], usage["credits_spent"], usage["credits_sold"])  # events agree with the ledger

    monkeypatch.setenv("BIGTECH_BACKUP_BUCKET", store.settings.bucket)
    monkeypatch.setenv("BIGTECH_BACKUP_PREFIX", store.settings.prefix)
    assert not run_backups(TablesDB(make_client(stack)), store, tenant=tenant_id, progress=lambda _l: None).errors
    status, text = scrape(stack)
    assert status == 200, text
    after = samples(text)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("bigtech_consultas_total", category="cadastral", status="succeeded") >= 2
    assert moved("bigtech_credits_total", kind="spent") >= sum(costs)
    assert moved("bigtech_credits_total", kind="sold") >= 50 and moved("bigtech_credits_total", kind="granted") >= 300
    assert moved("bigtech_payments_total", gateway="sandbox", outcome="confirmed") >= 1
    assert moved("bigtech_payment_webhook_failures_total", gateway="sandbox", status=str(refused.status)) >= 1
    assert value(after, "bigtech_backup_age_seconds", database=f"tenant_{tenant_id}") < 3600
    assert value(after, "bigtech_relay_lag_seconds") >= 0 and ("bigtech_outbox_pending", ()) in after
    calls = value(after, "bigtech_scrape_appwrite_calls")
    tenants = len(TablesDB(make_client(stack)).list_rows("core", "tenants").rows)
    print(f"scrape: {calls:.0f} Appwrite calls with {tenants} tenants")
    assert calls <= 3 + tenants // 100 + 2  # counters pages + markers + tenant list; not per tenant


def test_a_redelivered_event_counts_once_and_only_the_relay_delivers(stack, world):
    admin, tenant_id = world["admin"], world["tenant"]
    period = datetime.now(UTC).strftime("%Y-%m")
    granted = outbox(stack, tenant_id, "credits.granted")
    assert granted
    before = admin.call("ops", "GET", f"/usage?period={period}&tenant_id={tenant_id}").body["usage"]["tenants"][0]
    envelope = envelope_from_row(granted[0]["$id"], granted[0])
    again = call(stack, None, "ops", "POST", "/events", raw_body=envelope.to_json(),
                 headers={"content-type": "application/json"})
    assert again.status == 200 and again.body["duplicate"] is True
    after = admin.call("ops", "GET", f"/usage?period={period}&tenant_id={tenant_id}").body["usage"]["tenants"][0]
    assert after == before
    as_member = world["owner"].call("ops", "POST", "/events", {"id": "x"})
    assert as_member.status == 403
    assert world["owner"].call("ops", "GET", f"/usage?period={period}").status == 403
    assert admin.call("ops", "GET", "/usage?period=2026-13").status == 422


def test_effects_of_each_event_type():
    def of(kind: str, **data) -> tuple:
        usage, counters = effects(EventEnvelope(type=kind, tenant_id="t", data=data))
        return [(u.category, u.count, u.credits, u.amount_cents) for u in usage], [
            (c.name, dict(c.labels), c.value) for c in counters]

    assert of("consulta.completed", category="credito", status="succeeded", cost=7) == (
        [("consultas:credito", 1, 7, 0)],
        [("bigtech_consultas_total", {"category": "credito", "status": "succeeded"}, 1),
         ("bigtech_credits_total", {"kind": "spent"}, 7)])
    assert of("consulta.failed", category="veicular", status="failed", cost=0) == (
        [], [("bigtech_consultas_total", {"category": "veicular", "status": "failed"}, 1)])
    assert of("payment.refunded", gateway="asaas", refunded_cents=900, amount_cents=1000)[0] == [
        ("payments:refunded", 1, 0, 900)]
    assert of("credits.purchased", credits=50)[1] == [("bigtech_credits_total", {"kind": "sold"}, 50)]
    assert of("tenant.created") == ([], [])
    assert of("consulta.completed", category="x" * 80 + "\n", status=None, cost="-3")[1][0][1] == {
        "category": "x" * 40, "status": "unknown"}  # hostile labels are bounded; negative costs are zero


def test_the_relay_counts_what_it_dead_letters(stack):
    from bigtech import metrics
    from bigtech.bus import RelayReport
    from local_appwrite.runner.loader import bind_package, forget
    from tests.support.actors import REPO_ROOT, ensure_core

    ensure_core(stack)
    forget("_ops_relay")
    bind_package("_ops_relay", REPO_ROOT / "functions" / "relay")
    run = importlib.import_module("_ops_relay.src.run")
    tables = TablesDB(make_client(stack))
    key = ("bigtech_dead_letters_total", metrics.labels_json({"kind": "delivery"}))
    before = metrics.totals(tables).get(key, 0)
    report = RelayReport(mode="direct", tenant_id="any")
    run.count_dead_letters(tables, report)  # nothing dead-lettered: no call at all
    report.dead_lettered = 2
    run.count_dead_letters(tables, report)
    assert metrics.totals(tables).get(key, 0) - before == 2
