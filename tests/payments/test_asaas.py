"""pagamento-asaas: requests match the reference's recorded shape; webhooks verify and map correctly."""

from __future__ import annotations

import json
from datetime import date

import httpx
import pytest

from bigtech.payments import ChargeRequest, PaymentKind
from bigtech.plugins import ExecuteRequest, run_execute

from .helpers import Recorder, fixture, plugin_module

asaas_mod = plugin_module("asaas", "asaas")
KEY = "$aact_hmlg_000000000000000000000000000000"
TOKEN = "whk_" + "x" * 40
CONFIG = {"api_key": KEY, "webhook_token": TOKEN, "environment": "sandbox",
          "user_agent": "Bigtech/1.0 (+https://bigtech.local)", "due_days": 3, "credit_card_on_confirmed": True}


def charge_request(method: str = "pix", **extra) -> ChargeRequest:
    return ChargeRequest.model_validate({
        "order": {"id": "purchase_8f3c", "tenant_id": "acme", "package_id": "pkg50",
                  "description": "Pacote 50 créditos",
                  "credits": 50, "amount_cents": 5000},
        "payer": {"user_id": "user_42", "name": "Empresa Exemplo LTDA", "email": "financeiro@example.com",
                  "document": "11.222.333/0001-81"},
        "method": method, **extra,
    })


def recorder(customers: str = "customers_empty", payment: str = "payment_pix_created",
             payments: str = "payments_empty") -> Recorder:
    return Recorder({
        ("GET", "/v3/customers"): fixture("asaas", customers),
        ("GET", "/v3/payments"): fixture("asaas", payments),
        ("POST", "/v3/customers"): fixture("asaas", "customer_created"),
        ("POST", "/v3/payments"): fixture("asaas", payment),
        ("GET", "/v3/payments/pay_080225913252/pixQrCode"): fixture("asaas", "pix_qr_code"),
        ("GET", "/v3/payments/pay_080225913252/identificationField"): fixture("asaas", "identification_field"),
    })


def plugin(rec: Recorder):
    return asaas_mod.AsaasPayments(transport=rec.transport())


def assert_matches_recorded(request: httpx.Request, recorded: dict) -> None:
    assert request.method == recorded["method"]
    assert str(request.url).split("?")[0] == recorded["url"]
    for name, value in recorded["headers"].items():
        assert request.headers.get(name) == value, name
    assert json.loads(request.content) == recorded["json"]


def test_pix_charge_creates_customer_then_payment_then_qr():
    rec = recorder()
    instructions = plugin(rec).create_charge(charge_request("pix"), CONFIG, today=date(2025, 7, 1))
    paths = [(r.method, r.url.path) for r in rec.requests]
    assert paths == [("GET", "/v3/customers"), ("POST", "/v3/customers"), ("GET", "/v3/payments"),
                     ("POST", "/v3/payments"), ("GET", "/v3/payments/pay_080225913252/pixQrCode")]
    assert rec.requests[0].url.params["externalReference"] == "bigtech:acme:user_42"
    assert rec.requests[2].url.params["externalReference"] == "purchase_8f3c"
    assert_matches_recorded(rec.requests[1], fixture("asaas", "request_create_customer"))
    assert_matches_recorded(rec.requests[3], fixture("asaas", "request_create_payment_pix"))
    assert instructions.pix_payload == fixture("asaas", "pix_qr_code")["payload"]
    assert instructions.pix_qr_code_base64 == fixture("asaas", "pix_qr_code")["encodedImage"]
    assert instructions.gateway_charge_id == "pay_080225913252"
    assert instructions.gateway_customer_id == "cus_000005219613"


def test_amount_is_decimal_brl_not_cents():
    rec = recorder()
    request = charge_request("pix")
    request.order.amount_cents = 1990
    plugin(rec).create_charge(request, CONFIG, today=date(2025, 7, 1))
    sent = rec.body(3)
    assert sent["value"] == 19.9 and isinstance(sent["value"], float)
    assert b'"value":19.9' in rec.requests[3].content.replace(b" ", b"")


def test_existing_customer_is_reused_not_duplicated():
    rec = recorder(customers="customers_found")
    plugin(rec).create_charge(charge_request("pix"), CONFIG, today=date(2025, 7, 1))
    assert ("POST", "/v3/customers") not in [(r.method, r.url.path) for r in rec.requests]
    assert rec.body(2)["customer"] == "cus_000005219613"


def test_a_retried_create_reuses_the_charge_already_made_for_the_order():
    """Asaas has no idempotency keys: the charge is looked up by externalReference before creating."""
    rec = recorder(customers="customers_found", payments="payments_found")
    instructions = plugin(rec).create_charge(charge_request("pix"), CONFIG, today=date(2025, 7, 1))
    assert ("POST", "/v3/payments") not in [(r.method, r.url.path) for r in rec.requests]
    assert instructions.gateway_charge_id == "pay_080225913252"
    assert instructions.pix_payload == fixture("asaas", "pix_qr_code")["payload"]


def test_fixture_pix_payload_carries_its_own_crc():
    brcode = plugin_module("sandbox", "brcode")
    payload = fixture("asaas", "pix_qr_code")["payload"]
    assert payload[-8:-4] == "6304" and brcode.crc16(payload[:-4]) == payload[-4:]


def test_boleto_charge_returns_url_and_digitable_line():
    rec = recorder(customers="customers_found", payment="payment_boleto_created")
    instructions = plugin(rec).create_charge(charge_request("boleto"), CONFIG, today=date(2025, 7, 1))
    assert rec.body(2)["billingType"] == "BOLETO"
    assert instructions.boleto_url == "https://sandbox.asaas.com/b/pdf/080225913252"
    assert instructions.boleto_line == fixture("asaas", "identification_field")["identificationField"]


def test_card_without_token_returns_hosted_invoice_as_checkout():
    rec = recorder(customers="customers_found", payment="payment_card_created")
    instructions = plugin(rec).create_charge(charge_request("credit_card"), CONFIG, today=date(2025, 7, 1))
    body = rec.body(2)
    assert body["billingType"] == "CREDIT_CARD" and "creditCardToken" not in body
    assert instructions.checkout_url == "https://sandbox.asaas.com/i/080225913252"


def test_card_with_token_sends_token_and_remote_ip():
    rec = recorder(customers="customers_found", payment="payment_card_created")
    request = charge_request("credit_card", card_token="76496073-536f-4835-80db-c45d00f33695")
    request.payer.ip = "200.100.10.1"
    plugin(rec).create_charge(request, CONFIG, today=date(2025, 7, 1))
    body = rec.body(2)
    assert body["creditCardToken"] == "76496073-536f-4835-80db-c45d00f33695" and body["remoteIp"] == "200.100.10.1"


def test_production_uses_production_base_url():
    rec = recorder(customers="customers_found")
    plugin(rec).create_charge(charge_request("pix"), {**CONFIG, "environment": "production"}, today=date(2025, 7, 1))
    assert all(r.url.host == "api.asaas.com" for r in rec.requests)


def test_gateway_refusal_becomes_a_failed_plugin_result_without_the_payload():
    rec = Recorder({("GET", "/v3/customers"): fixture("asaas", "customers_found"),
                    ("GET", "/v3/payments"): fixture("asaas", "payments_empty"),
                    ("POST", "/v3/payments"): httpx.Response(400, json=fixture("asaas", "error_invalid_customer"))})
    body = ExecuteRequest(tenant_id="acme", request_id="r1", config=CONFIG,
                          input=charge_request("pix").model_dump(mode="json"))
    result = run_execute(plugin(rec), body)
    assert result.status.value == "failed"
    assert result.errors[0].code == "gateway_rejected"
    assert "invalid_customer" in result.errors[0].message


def test_timeout_is_retryable():
    def boom(request):
        raise httpx.ConnectTimeout("slow", request=request)

    rec = Recorder({("GET", "/v3/customers"): boom})
    body = ExecuteRequest(tenant_id="acme", request_id="r1", config=CONFIG,
                          input=charge_request("pix").model_dump(mode="json"))
    result = run_execute(plugin(rec), body)
    assert result.status.value == "retryable" and result.errors[0].code == "gateway_timeout"


def test_execute_refuses_an_order_of_another_tenant():
    body = ExecuteRequest(tenant_id="other", request_id="r1", config=CONFIG,
                          input=charge_request("pix").model_dump(mode="json"))
    result = run_execute(plugin(recorder()), body)
    assert result.status.value == "failed" and result.errors[0].code == "invalid_input"


# -- webhooks -------------------------------------------------------------------------------------

def test_token_is_compared_exactly():
    p = asaas_mod.AsaasPayments()
    raw = json.dumps(fixture("asaas", "webhook_payment_received")).encode()
    assert p.verify_webhook("acme", {"asaas-access-token": TOKEN}, raw, CONFIG)
    assert not p.verify_webhook("acme", {"asaas-access-token": TOKEN + "x"}, raw, CONFIG)
    assert not p.verify_webhook("acme", {"asaas-access-token": TOKEN[:-1]}, raw, CONFIG)
    assert not p.verify_webhook("acme", {}, raw, CONFIG)
    assert not p.verify_webhook("acme", {"asaas-access-token": ""}, raw, {**CONFIG, "webhook_token": ""})


@pytest.mark.parametrize(("name", "kind"), [
    ("webhook_payment_received", PaymentKind.CONFIRMED),
    ("webhook_payment_confirmed_pix", None),
    ("webhook_payment_confirmed_card", PaymentKind.CONFIRMED),
    ("webhook_payment_refunded", PaymentKind.REFUNDED),
    ("webhook_chargeback_requested", PaymentKind.CHARGEBACK),
    ("webhook_payment_created", None),
    ("webhook_payment_overdue", None),  # still payable: a later PAYMENT_RECEIVED credits
    ("webhook_payment_partially_refunded", PaymentKind.REFUNDED),
])
def test_events_map_to_payment_kinds(name, kind):
    event = asaas_mod.AsaasPayments().parse_webhook(fixture("asaas", name), CONFIG)
    assert event.kind == kind
    assert event.order_id == "purchase_8f3c"
    assert event.event_id == fixture("asaas", name)["id"]
    assert event.amount_cents == 5000 and event.currency == "BRL"


def test_partial_refund_carries_only_the_refunded_total():
    plugin = asaas_mod.AsaasPayments()
    event = plugin.parse_webhook(fixture("asaas", "webhook_payment_partially_refunded"), CONFIG)
    assert (event.partial, event.refunded_cents) == (True, 1500)
    full = plugin.parse_webhook(fixture("asaas", "webhook_payment_refunded"), CONFIG)
    assert (full.partial, full.refunded_cents) == (False, 5000)
    unlisted = fixture("asaas", "webhook_payment_partially_refunded")
    unlisted["payment"]["refunds"] = None  # the payload does not say how much: billing reviews
    assert plugin.parse_webhook(unlisted, CONFIG).refunded_cents is None
    cancelled = fixture("asaas", "webhook_payment_partially_refunded")
    cancelled["payment"]["refunds"].append({**cancelled["payment"]["refunds"][0], "status": "CANCELLED", "value": 20.0})
    assert plugin.parse_webhook(cancelled, CONFIG).refunded_cents == 1500


def test_card_confirmed_can_wait_for_received():
    event = asaas_mod.AsaasPayments().parse_webhook(fixture("asaas", "webhook_payment_confirmed_card"),
                                                    {**CONFIG, "credit_card_on_confirmed": False})
    assert event.kind is None
