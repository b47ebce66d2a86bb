"""funcional-relatorios on the local stack: usage = ledger, statements that add up, CSV and PDF that say
what the JSON says, and members seeing only their own."""

from __future__ import annotations

import base64
import csv
import io
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from tests.payments.stack_support import deliver_all
from tests.support.actors import add_member, unique_suffix

from .conftest import new_tenant

PLUGIN = "funcional-relatorios"
CPF_OK, CPF_DOWN = "52998224725", "12345699655"  # sandbox: ok (billable) / source down (free)


def consulta(actor, document):
    return actor.call("consultas", "POST", "/", {"category": "cadastral", "document": document,
                                                 "purpose": "onboarding/KYC", "legal_basis": "art7_V"}
                      ).unwrapped("consulta")


@pytest.fixture(scope="module")
def world(stack, admin):
    tenant_id, owner = new_tenant(stack, admin, "rel", PLUGIN, {"company_name": "Acme Crédito Ltda"})
    analyst = add_member(owner, "analyst")
    for who in (owner, analyst):
        assert owner.call("billing", "POST", "/grants", {"user_id": who.user_id, "credits": 500,
                                                          "reason": "tests"}).status == 201
    ids = [consulta(owner, CPF_OK).body["id"], consulta(owner, CPF_OK).body["id"], consulta(analyst, CPF_OK).body["id"],
           consulta(owner, CPF_DOWN).body["id"]]
    order = analyst.call("billing", "POST", "/orders", {"package_id": "pkg-50", "method": "pix"},
                         headers={"idempotency-key": f"rel-{unique_suffix()}"}).body["order"]
    paid = analyst.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order["id"]})
    assert paid.status == 200, paid
    deliver_all(stack, tenant_id, order["id"])
    return {"tenant": tenant_id, "owner": owner, "analyst": analyst, "consultas": ids, "order": order["id"]}


def today():
    return datetime.now(UTC).date().isoformat()


def period():
    return f"from={today()}&to={today()}"


def pdf_text(result) -> str:
    assert result.status == 200, result
    assert result.headers.get("content-type", "").startswith("application/pdf")
    raw = result.raw.encode("latin-1") if result.raw.startswith("%PDF") else base64.b64decode(result.raw)
    assert raw.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(raw)).pages)


def csv_rows(result):
    assert result.status == 200, result
    assert result.raw.startswith("\ufeff") and result.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(result.raw[1:]), delimiter=";"))


@pytest.mark.slow
def test_usage_totals_equal_the_ledger(world):
    owner = world["owner"]
    usage = owner.call(PLUGIN, "GET", f"/usage?{period()}&group_by=member").unwrapped("usage")
    assert usage.status == 200, usage
    totals = usage.body["totals"]
    assert totals["count"] == 4 and totals["charged"] == 3
    ledger = owner.call(PLUGIN, "GET", f"/statement?{period()}").unwrapped("statement").body["entries"]
    debits = sum(e["amount_credits"] for e in ledger if e["type"] == "debit" and e["reference_type"] == "consulta")
    assert totals["credits"] == debits > 0
    assert totals["value_cents"] == totals["credits"] * usage.body["credit_value_cents"]
    assert totals["margin_cents"] == totals["value_cents"] - totals["provider_cost_cents"]
    by_member = {item["key"]: item for item in usage.body["items"]}
    assert by_member[world["analyst"].user_id]["count"] == 1 and by_member[owner.user_id]["count"] == 3
    channels = owner.call(PLUGIN, "GET", f"/usage?{period()}&group_by=channel").unwrapped("usage").body["items"]
    assert [(i["key"], i["count"]) for i in channels] == [("web", 4)]  # members in the web app, no API key
    for group in ("day", "week", "month", "category", "product", "status", "channel"):
        grouped = owner.call(PLUGIN, "GET", f"/usage?{period()}&group_by={group}").unwrapped("usage").body
        assert sum(i["credits"] for i in grouped["items"]) == totals["credits"], group


def test_members_see_only_their_own_without_costs(world):
    analyst = world["analyst"]
    mine = analyst.call(PLUGIN, "GET", f"/usage?{period()}&member={world['owner'].user_id}").unwrapped("usage")
    assert mine.status == 200 and mine.body["member"] == analyst.user_id
    assert mine.body["totals"]["count"] == 1 and "provider_cost_cents" not in mine.body["totals"]
    owners = world["consultas"][0]
    assert analyst.call(PLUGIN, "GET", f"/receipts/consultas/{owners}.pdf").status == 404
    assert analyst.call(PLUGIN, "GET", f"/receipts/consultas/{world['consultas'][2]}.pdf").status == 200


def test_statement_balances_add_up(world):
    for who in (world["owner"], world["analyst"]):
        body = who.call(PLUGIN, "GET", f"/statement?{period()}").unwrapped("statement").body
        effects = sum(e["balance_effect"] for e in body["entries"])
        assert body["opening_balance"] + effects == body["closing_balance"]
        assert body["closing_balance"] - body["opening_balance"] == body["credits_in"] - body["credits_out"]
    wallet = world["analyst"].call("billing", "GET", "/wallet").body["wallet"]["balance"]
    mine = world["analyst"].call(PLUGIN, "GET", f"/statement?{period()}").unwrapped("statement").body
    assert mine["closing_balance"] == wallet and mine["orders"][0]["id"] == world["order"]


def test_csv_exports_match_the_json(world):
    owner = world["owner"]
    rows = csv_rows(owner.call(PLUGIN, "GET", f"/exports/consultas.csv?{period()}"))
    assert rows[0][0] == "id" and sorted(r[0] for r in rows[1:]) == sorted(world["consultas"])
    assert CPF_OK not in "".join(map(str, rows))
    usage = owner.call(PLUGIN, "GET", f"/usage?{period()}&group_by=category").unwrapped("usage").body
    lines = csv_rows(owner.call(PLUGIN, "GET", f"/exports/usage.csv?{period()}&group_by=category"))
    total = lines[-1]
    assert total[0] == "total" and int(total[3]) == usage["totals"]["credits"]
    assert total[4] == f"{usage['totals']['value_cents'] / 100:.2f}".replace(".", ",")
    ledger = csv_rows(owner.call(PLUGIN, "GET", f"/exports/ledger.csv?{period()}"))
    statement = owner.call(PLUGIN, "GET", f"/statement?{period()}").unwrapped("statement").body
    assert len(ledger) - 1 == statement["entries_count"]
    english = owner.call(PLUGIN, "GET", f"/exports/orders.csv?{period()}&locale=en")
    assert english.status == 200 and world["order"] in english.raw and "50.00" in english.raw
    assert owner.call(PLUGIN, "GET", "/exports/users.csv").status == 404


def test_csv_cells_cannot_become_formulas():
    from tests.plugins.conftest import load_plugin_module

    csv_export = load_plugin_module("funcional", "relatorios", "csv_export")
    cell = csv_export.Cell("pt-BR")
    for attack in ("=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"):
        assert cell.text(attack).startswith("'")
    assert cell.number(-5) == "-5" and cell.money(1234) == "12,34" and cell.text("Crédito") == "Crédito"


def test_pdfs_say_what_the_json_says(world):
    owner = world["owner"]
    consulta_id = world["consultas"][0]
    text = pdf_text(owner.call(PLUGIN, "GET", f"/receipts/consultas/{consulta_id}.pdf"))
    stored = owner.call("consultas", "GET", f"/{consulta_id}").unwrapped("consulta").body
    stored = stored.get("consulta", stored)
    for expected in (consulta_id, "Acme Crédito Ltda", stored["category"], "consulta-cadastral", stored["purpose"],
                     stored["legal_basis"], "fonte-", "Hash de verifica", str(stored["cost_credits"])):
        assert expected in text, expected
    assert CPF_OK not in text and "***" in text
    order = pdf_text(owner.call(PLUGIN, "GET", f"/receipts/orders/{world['order']}.pdf"))
    assert world["order"] in order and "pagamento-sandbox" in order and "pix" in order
    month = datetime.now(UTC).strftime("%Y-%m")
    statement = owner.call(PLUGIN, "GET", f"/statement?from={month}-01&to={today()}").unwrapped("statement").body
    text = pdf_text(owner.call(PLUGIN, "GET", f"/statements/{month}.pdf"))
    assert f"Saldo final {statement['closing_balance']}" in text.replace("\n", " ") or \
        str(statement["closing_balance"]) in text
    assert owner.call(PLUGIN, "GET", "/statements/2026-13.pdf").status == 422
    assert owner.call(PLUGIN, "GET", "/receipts/consultas/nope.pdf").status == 404


def test_bad_periods_are_422(world):
    owner = world["owner"]
    assert owner.call(PLUGIN, "GET", "/usage?from=2026-02-30").status == 422
    assert owner.call(PLUGIN, "GET", "/usage?from=2026-03-01&to=2026-02-01").status == 422
    assert owner.call(PLUGIN, "GET", "/usage?from=2024-01-01&to=2026-01-01").status == 422
    assert owner.call(PLUGIN, "GET", "/usage?group_by=planet").status == 422


def test_a_usage_job_runs_in_chunks_and_matches_the_report(world, monkeypatch):
    """The asynchronous path for big periods: one page per run here, so the job needs several executions."""
    import time

    monkeypatch.setenv("BIGTECH_REPORT_CHUNK_SECONDS", "0")
    owner = world["owner"]
    started = owner.call(PLUGIN, "POST", "/jobs/usage", {"from": today(), "to": today(), "group_by": "category"})
    assert started.status == 202, started
    job_id = started.body["job"]["id"]
    deadline = time.monotonic() + 30
    while True:
        job = owner.call(PLUGIN, "GET", f"/jobs/{job_id}").body["job"]
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"] == "done", job
    assert job["runs"] >= 3  # consultas scan, its end, the costs scan
    sync = owner.call(PLUGIN, "GET", f"/usage?{period()}&group_by=category").unwrapped("usage").body
    assert job["result"]["totals"] == sync["totals"]
    assert job["result"]["items"] == sync["items"]
    assert world["analyst"].call(PLUGIN, "GET", f"/jobs/{job_id}").status == 404  # not theirs
    assert owner.call(PLUGIN, "POST", "/jobs/run", {"tenant_id": world["tenant"], "job_id": job_id}).status == 403


def test_the_channel_of_a_consulta_is_the_web_app_or_an_api_key():
    from types import SimpleNamespace

    from tests.plugins.conftest import load_plugin_module

    usage = load_plugin_module("funcional", "relatorios", "usage")
    web = SimpleNamespace(data={"user_id": "u1", "api_key_id": None})
    api = SimpleNamespace(data={"user_id": "apikey:k1", "api_key_id": "k1"})
    assert usage.group_key(web, "channel") == "web" and usage.group_key(api, "channel") == "api"
    assert usage.channel_of(None, "apikey:k9") == "api"  # an audit entry names the key as its actor
