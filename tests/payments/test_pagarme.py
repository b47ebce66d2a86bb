"""pagamento-pagarme: order requests in cents with Basic auth; RS256 webhook signatures against a JWKS."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bigtech.payments import ChargeRequest, PaymentKind
from bigtech.payments.jwks import JwksCache, public_jwk, sign_rs256, verify_rs256
from bigtech.plugins import ExecuteRequest, run_execute

from .helpers import Recorder, fixture, fixture_bytes, plugin_module

pagarme_mod = plugin_module("pagarme", "pagarme")
JWKS_URL = "https://hubapi.pagar.me/.well-known/jwks.json"  # an outbound_hosts host
CONFIG = {"secret_key": "sk_test_0000000000000000", "jwks_url": JWKS_URL, "pix_expires_in": 3600,
          "boleto_due_days": 3, "statement_descriptor": "BIGTECH",
          "checkout_success_url": "https://bigtech.local/checkout/ok"}


@pytest.fixture(scope="module")
def keypair():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks(keypair):
    fetched = []

    def fetch(url):
        fetched.append(url)
        return {"keys": [public_jwk(keypair, "kid-1")]}

    cache = JwksCache(fetch=fetch)
    cache.fetched = fetched
    return cache


def charge_request(method="pix", **extra):
    return ChargeRequest.model_validate({
        "order": {"id": "purchase_8f3c", "tenant_id": "acme", "package_id": "pkg50",
                  "description": "Pacote 50 créditos",
                  "credits": 50, "amount_cents": 5000},
        "payer": {"user_id": "user_42", "name": "Empresa Exemplo", "email": "fin@example.com",
                  "document": "11.222.333/0001-81", "phone": "11999999999"},
        "method": method, **extra,
    })


def run(method="pix", answer="order_pix_created", **extra):
    rec = Recorder({("POST", "/core/v5/orders"): fixture("pagarme", answer)})
    plugin = pagarme_mod.PagarmePayments(transport=rec.transport())
    return plugin.create_charge(charge_request(method, **extra), CONFIG), rec


def test_pix_order_matches_the_recorded_request():
    instructions, rec = run()
    recorded = fixture("pagarme", "request_order_pix")
    request = rec.requests[0]
    assert request.method == recorded["method"] and str(request.url) == recorded["url"]
    for name, value in recorded["headers"].items():
        assert request.headers[name] == value
    assert json.loads(request.content) == recorded["json"]
    tx = fixture("pagarme", "order_pix_created")["charges"][0]["last_transaction"]
    assert instructions.pix_payload == tx["qr_code"] and instructions.pix_qr_code_url == tx["qr_code_url"]
    assert instructions.gateway_order_id == "or_56GXnk6T0eU88qMm"
    assert instructions.gateway_charge_id == "ch_d22356Jf4WuGr8no"


def test_amounts_are_integer_cents():
    _, rec = run()
    body = json.loads(rec.requests[0].content)
    assert body["items"][0]["amount"] == 5000 and body["payments"][0]["amount"] == 5000
    assert isinstance(body["payments"][0]["amount"], int)


def test_boleto_order_and_instructions():
    body_time = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    client = plugin_module("pagarme", "client")
    payment = client.order_body(charge_request("boleto").order, charge_request("boleto").payer, charge_request(
        "boleto").method, CONFIG, now=body_time)["payments"][0]
    assert payment == {"payment_method": "boleto", "amount": 5000, "boleto": {
        "due_at": "2025-07-04T12:00:00Z", "instructions": payment["boleto"]["instructions"]}}
    instructions, _ = run("boleto", "order_boleto_created")
    tx = fixture("pagarme", "order_boleto_created")["charges"][0]["last_transaction"]
    assert instructions.boleto_url == tx["url"] and instructions.boleto_line == tx["line"]


def test_card_with_token_and_without():
    _, rec = run("credit_card", "order_pix_created", card_token="token_abc")
    payment = json.loads(rec.requests[0].content)["payments"][0]
    assert payment["payment_method"] == "credit_card"
    assert payment["credit_card"] == {"installments": 1, "statement_descriptor": "BIGTECH", "card_token": "token_abc"}
    instructions, rec = run("credit_card", "order_checkout_created")
    assert json.loads(rec.requests[0].content)["payments"][0]["payment_method"] == "checkout"
    assert instructions.checkout_url == "https://pagar.me/checkout/chk_1"


def test_individual_customer_is_cpf():
    client = plugin_module("pagarme", "client")
    request = charge_request()
    request.payer.document = "529.982.247-25"
    customer = client.customer_body(request.payer, "acme")
    assert customer["document"] == "52998224725" and customer["document_type"] == "CPF"
    assert customer["type"] == "individual"


def test_failed_order_and_bad_key_are_failed_results():
    rec = Recorder({("POST", "/core/v5/orders"): fixture("pagarme", "order_failed")})
    body = ExecuteRequest(tenant_id="acme", request_id="r", config=CONFIG,
                          input=charge_request().model_dump(mode="json"))
    result = run_execute(pagarme_mod.PagarmePayments(transport=rec.transport()), body)
    assert result.status.value == "failed" and result.errors[0].code == "gateway_refused"
    rec = Recorder({("POST", "/core/v5/orders"): httpx.Response(401, json=fixture("pagarme", "error_unauthorized"))})
    result = run_execute(pagarme_mod.PagarmePayments(transport=rec.transport()), body)
    assert result.errors[0].code == "gateway_unauthorized"


# -- webhooks -------------------------------------------------------------------------------------

def test_signature_over_the_raw_body_verifies(keypair, jwks):
    raw = fixture_bytes("pagarme", "webhook_order_paid")
    header = sign_rs256(keypair, "kid-1", raw)
    plugin = pagarme_mod.PagarmePayments(jwks=jwks)
    assert plugin.verify_webhook("acme", {"x-webhook-asymmetric-signature": header}, raw, CONFIG)
    # Same JSON, different bytes (re-serialised): the signature no longer matches.
    reserialised = json.dumps(json.loads(raw)).encode()
    assert reserialised != raw
    assert not plugin.verify_webhook("acme", {"x-webhook-asymmetric-signature": header}, reserialised, CONFIG)


def test_bad_signatures_are_refused(keypair, jwks):
    raw = fixture_bytes("pagarme", "webhook_order_paid")
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = sign_rs256(keypair, "kid-1", raw)
    for header in (None, "", "garbage", sign_rs256(other, "kid-1", raw), sign_rs256(keypair, "kid-unknown", raw),
                   good.replace("RS256", "HS256"), good[:-4] + "AAAA"):
        assert not verify_rs256(header, raw, JWKS_URL, jwks), header


def test_jwks_is_cached_per_url_and_refreshed_for_a_new_kid(keypair):
    calls = []
    now = [0.0]

    def fetch(url):
        calls.append(url)
        return {"keys": [public_jwk(keypair, "kid-1")]}

    cache = JwksCache(fetch=fetch, ttl=600, min_refresh=30, clock=lambda: now[0])
    raw = b'{"id":"hook_1"}'
    for _ in range(5):
        assert verify_rs256(sign_rs256(keypair, "kid-1", raw), raw, JWKS_URL, cache)
    assert calls == [JWKS_URL]
    assert verify_rs256(sign_rs256(keypair, "kid-1", raw), raw, JWKS_URL + "?b", cache)
    assert len(calls) == 2
    assert not verify_rs256(sign_rs256(keypair, "kid-2", raw), raw, JWKS_URL, cache)
    assert len(calls) == 2  # unknown kid within min_refresh: no refetch
    now[0] = 31
    assert not verify_rs256(sign_rs256(keypair, "kid-2", raw), raw, JWKS_URL, cache)
    assert len(calls) == 3
    now[0] = 1000
    assert verify_rs256(sign_rs256(keypair, "kid-1", raw), raw, JWKS_URL, cache)
    assert len(calls) == 4  # ttl expired


def test_jwks_fetch_over_http(keypair):
    from bigtech.payments.jwks import http_fetch

    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"keys": [public_jwk(keypair, "k")]}))
    cache = JwksCache(fetch=lambda url: http_fetch(url, transport))
    raw = b"{}"
    assert verify_rs256(sign_rs256(keypair, "k", raw), raw, JWKS_URL, cache)
    failing = JwksCache(fetch=lambda url: http_fetch(url, httpx.MockTransport(lambda r: httpx.Response(503))))
    assert not verify_rs256(sign_rs256(keypair, "k", raw), raw, JWKS_URL, failing)


@pytest.mark.parametrize(("name", "kind", "event_id"), [
    ("webhook_order_paid", PaymentKind.CONFIRMED, "hook_Vt2cXq5Ws9EmB1Ry"),
    ("webhook_charge_paid", PaymentKind.CONFIRMED, "hook_RyEKQO789TRpZjv5"),
    ("webhook_charge_refunded", PaymentKind.REFUNDED, "hook_aQ4mZr6Yb0LkT8Hw"),
    ("webhook_charge_chargedback", PaymentKind.CHARGEBACK, "hook_Kp7sVd1Ne5GhU3Jx"),
    ("webhook_order_created", None, "hook_Lz8kFg3Ua6DnC0Tp"),
])
def test_events_map_to_payment_kinds(name, kind, event_id):
    event = pagarme_mod.PagarmePayments().parse_webhook(fixture("pagarme", name), CONFIG)
    assert (event.kind, event.event_id, event.order_id) == (kind, event_id, "purchase_8f3c")
    assert event.gateway_charge_id == "ch_d22356Jf4WuGr8no" and event.currency == "BRL"
    if kind is PaymentKind.CONFIRMED:
        assert event.amount_cents == 5000 and not event.accepts_overpayment


def test_refunded_charge_is_canceled_with_its_canceled_amount():
    """Pagar.me has no ``refunded`` charge status: a refunded charge is ``canceled``."""
    payload = fixture("pagarme", "webhook_charge_refunded")
    assert payload["data"]["status"] == "canceled"
    event = pagarme_mod.PagarmePayments().parse_webhook(payload, CONFIG)
    assert (event.kind, event.partial, event.refunded_cents) == (PaymentKind.REFUNDED, False, 5000)


def test_overpaid_underpaid_and_partial_cancel():
    plugin = pagarme_mod.PagarmePayments()
    over = plugin.parse_webhook(fixture("pagarme", "webhook_charge_overpaid"), CONFIG)
    assert (over.kind, over.amount_cents, over.accepts_overpayment) == (PaymentKind.CONFIRMED, 6000, True)
    under = plugin.parse_webhook(fixture("pagarme", "webhook_charge_underpaid"), CONFIG)
    assert (under.kind, under.amount_cents, under.accepts_overpayment) == (PaymentKind.CONFIRMED, 100, False)
    partial = plugin.parse_webhook(fixture("pagarme", "webhook_charge_partial_canceled"), CONFIG)
    assert (partial.kind, partial.partial, partial.refunded_cents) == (PaymentKind.REFUNDED, True, 1500)


def test_order_creation_sends_the_order_id_as_idempotency_key():
    _, rec = run()
    assert rec.requests[0].headers["idempotency-key"] == "purchase_8f3c"


def test_checkout_expires_in_is_minutes():
    _, rec = run("credit_card", "order_checkout_created")
    checkout = json.loads(rec.requests[0].content)["payments"][0]["checkout"]
    assert checkout["expires_in"] == 60  # one hour, in minutes (3600 would be 60 hours)
    client = plugin_module("pagarme", "client")
    request = charge_request("credit_card")
    body = client.order_body(request.order, request.payer, request.method,
                             {**CONFIG, "checkout_expires_in_minutes": 15})
    assert body["payments"][0]["checkout"]["expires_in"] == 15


def test_fixture_pix_qr_code_is_a_well_formed_br_code():
    brcode = plugin_module("sandbox", "brcode")
    qr = fixture("pagarme", "order_pix_created")["charges"][0]["last_transaction"]["qr_code"]
    assert qr.startswith("000201") and qr[-8:-4] == "6304" and brcode.crc16(qr[:-4]) == qr[-4:]
    position = 0
    while position < len(qr):  # every TLV field's length is right, to the last byte
        length = int(qr[position + 2:position + 4])
        position += 4 + length
    assert position == len(qr)
