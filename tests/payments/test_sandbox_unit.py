"""pagamento-sandbox without a stack: fake charges, signatures, mapping."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from bigtech.payments import ChargeRequest, PaymentKind
from bigtech.plugin_loader.changes import PluginChange, plan
from bigtech.plugin_loader.state import TenantPlugin

from .helpers import plugin_module

sandbox_mod = plugin_module("sandbox", "sandbox")
availability = plugin_module("sandbox", "availability")
signing = plugin_module("sandbox", "signing")
brcode = plugin_module("sandbox", "brcode")


def request(method):
    return ChargeRequest.model_validate({
        "order": {"id": "ord1", "tenant_id": "acme", "package_id": "p", "description": "Pacote", "credits": 10,
                  "amount_cents": 1000},
        "payer": {"user_id": "u1", "name": "Ana"}, "method": method})


def test_fake_instructions_per_method():
    plugin = sandbox_mod.SandboxPayments()
    pix = plugin.create_charge(request("pix"), {})
    assert pix.pix_payload.startswith("000201") and pix.pix_payload[-8:-4] == "6304"
    assert brcode.crc16(pix.pix_payload[:-4]) == pix.pix_payload[-4:]
    assert "540510.00" in pix.pix_payload
    png = base64.b64decode(pix.pix_qr_code_base64)
    width, height = struct.unpack(">II", png[16:24])  # IHDR: a real QR, not a 1×1 placeholder
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and width == height and width >= 100
    boleto = plugin.create_charge(request("boleto"), {})
    assert boleto.boleto_url and boleto.boleto_line
    card = plugin.create_charge(request("credit_card"), {})
    assert card.checkout_url.endswith("/checkout/ord1")


def test_crc16_known_vector():
    assert brcode.crc16("123456789") == "29B1"  # CRC-16/CCITT-FALSE check value


def test_signature_round_trip_and_refusals():
    raw = b'{"id":"e"}'
    header = signing.sign("secret-0123456789", raw, timestamp=1_000_000)
    assert signing.verify("secret-0123456789", header, raw, 300, now=1_000_100)
    assert not signing.verify("secret-0123456789", header, raw, 300, now=1_000_400)  # too old
    assert not signing.verify("other-secret-000", header, raw, 300, now=1_000_100)
    assert not signing.verify("secret-0123456789", header, raw + b" ", 300, now=1_000_100)
    assert not signing.verify("secret-0123456789", "t=abc,v1=00", raw, 300, now=1_000_100)
    assert not signing.verify("secret-0123456789", None, raw, 300)


def test_no_secret_or_a_short_one_verifies_nothing_and_signs_nothing():
    raw = b'{"id":"e"}'
    header = signing.sign("secret-0123456789", raw, timestamp=1_000_000)
    for secret in (None, "", "short"):
        assert not signing.verify(secret, header, raw, 300, now=1_000_100)
        with pytest.raises(ValueError):
            signing.sign(secret, raw)
    assert not hasattr(signing, "DEV_FALLBACK_KEY") and not hasattr(signing, "derived_secret")


def test_payload_maps_back_to_the_event():
    plugin = sandbox_mod.SandboxPayments()
    for outcome, kind in (("paid", PaymentKind.CONFIRMED), ("failed", PaymentKind.FAILED),
                          ("refunded", PaymentKind.REFUNDED), ("chargeback", PaymentKind.CHARGEBACK)):
        payload = plugin.webhook_payload("ord1", {"amount_cents": 1000, "method": "pix"}, outcome, "evt-1")
        event = plugin.parse_webhook(json.loads(json.dumps(payload)), {})
        assert (event.kind, event.order_id, event.event_id, event.amount_cents) == (kind, "ord1", "evt-1", 1000)


# -- where simulation exists (issue 9: off unless BIGTECH_ENV says development or test) ------------------

@pytest.mark.parametrize(("environ", "allowed"), [
    ({"BIGTECH_ENV": "development"}, True),
    ({"BIGTECH_ENV": "test"}, True),
    ({"BIGTECH_ENV": "production"}, False),
    ({"BIGTECH_ENV": "staging"}, False),
    ({}, False),  # a deployed function without the variable is production
])
def test_simulation_only_where_the_environment_says_development_or_test(environ, allowed, tmp_path,
                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)  # no .env to fall back on
    assert availability.environment_allows_simulation(environ) is allowed


def test_the_sandbox_refuses_every_webhook_where_simulation_is_off(monkeypatch):
    plugin = sandbox_mod.SandboxPayments()
    raw = b'{"id":"e"}'
    config = {"webhook_secret": "secret-0123456789", "signature_tolerance_seconds": 300, "allow_simulation": True}
    headers = {signing.SIGNATURE_HEADER: signing.sign("secret-0123456789", raw)}
    monkeypatch.setenv("BIGTECH_ENV", "test")
    assert plugin.verify_webhook("acme", headers, raw, config)
    assert not plugin.verify_webhook("acme", headers, raw, {**config, "allow_simulation": False})
    assert not plugin.verify_webhook("acme", headers, raw, {**config, "webhook_secret": None})
    monkeypatch.setenv("BIGTECH_ENV", "production")
    assert not plugin.verify_webhook("acme", headers, raw, config)


def test_the_webhook_secret_is_generated_per_tenant_on_enable():
    manifest = sandbox_mod.SandboxPayments().manifest
    assert manifest.generated_secret_fields == ["webhook_secret"]
    first = plan(manifest, TenantPlugin("pagamento-sandbox"), PluginChange("pagamento-sandbox", enabled=True), "a")
    second = plan(manifest, TenantPlugin("pagamento-sandbox"), PluginChange("pagamento-sandbox", enabled=True), "b")
    secret = first.secrets["webhook_secret"]
    assert len(secret) >= 40 and secret != second.secrets["webhook_secret"]
    disabled = plan(manifest, TenantPlugin("pagamento-sandbox"), PluginChange("pagamento-sandbox", enabled=False), "c")
    assert "webhook_secret" not in disabled.secrets  # made when enabled, not before
