"""Buying credits on the local stack: packages, orders, payment plugins' webhooks, crediting by billing.

Everything goes through executions as a user, a guest (the gateway) or the relay (a key) would call.
The relay is played by ``deliver_all`` (outbox row → billing ``POST /events``), so the assertions do not
depend on its schedule; billing dedupes, so a real relay delivering too changes nothing.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bigtech.bus import EventEnvelope
from bigtech.payments.jwks import public_jwk, sign_rs256
from tests.support.actors import add_member, call, create_tenant, platform_admin, tenant_id_for, unique_suffix

from .helpers import fixture, plugin_module
from .stack_support import (
    JwksServer,
    balance,
    deliver,
    deliver_all,
    event_data,
    guest_call,
    insert_order,
    order_status,
    outbox,
    payment_events,
    snapshot,
)

signing = plugin_module("sandbox", "signing")
SANDBOX_SECRET = "test-sandbox-secret-0001"
ASAAS_TOKEN = "asaas-webhook-token-" + "k" * 24
CONSULTA = {"category": "cadastral", "document": "11222333000181", "purpose": "análise cadastral de cliente",
            "legal_basis": "execucao_contrato"}


@pytest.fixture(scope="module")
def keypair():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(keypair):
    with JwksServer({"keys": [public_jwk(keypair, "kid-test")]}) as server:
        yield server


@pytest.fixture(scope="module")
def world(stack, jwks):
    admin = platform_admin(stack)
    a, owner = create_tenant(stack, admin, tenant_id_for("pay"))
    analyst = add_member(owner, "analyst")
    viewer = add_member(owner, "viewer")
    configured = owner.call("plugins", "PUT", "/pagamento-sandbox",
                            {"enabled": True, "config": {"webhook_secret": SANDBOX_SECRET}})
    assert configured.status == 200, configured
    g, g_owner = create_tenant(stack, admin, tenant_id_for("gw"))
    synced = admin.call("plugins", "POST", "/catalog/sync")
    assert synced.status == 200, synced
    for plugin_id, config in (
        ("pagamento-asaas", {"api_key": "$aact_hmlg_000000000000000000000000000000", "webhook_token": ASAAS_TOKEN}),
        ("pagamento-pagarme", {"secret_key": "sk_test_0000000000000000", "jwks_url": jwks.url}),
    ):
        result = g_owner.call("plugins", "PUT", f"/{plugin_id}", {"enabled": True, "config": config})
        assert result.status == 200, result

    class World:
        pass

    w = World()
    w.stack, w.admin, w.a, w.owner, w.analyst, w.viewer, w.g, w.g_owner = \
        stack, admin, a, owner, analyst, viewer, g, g_owner
    return w


def buy(actor, package_id="pkg-50", method="pix", key=None):
    return actor.call("billing", "POST", "/orders", {"package_id": package_id, "method": method},
                      headers={"idempotency-key": key or f"buy-{unique_suffix()}"})


def sandbox_webhook(tenant_id, order_id, outcome="paid", event_id=None, amount=5000, secret=SANDBOX_SECRET):
    payload = {"id": event_id or f"sbx_evt_{unique_suffix()}", "type": f"charge.{outcome}",
               "created_at": "2025-07-01T12:00:00Z",
               "data": {"order_id": order_id, "charge_id": f"sbx_ch_{order_id}", "amount_cents": amount,
                        "currency": "BRL", "method": "pix"}}
    raw = json.dumps(payload, separators=(",", ":"))
    return raw, {"content-type": "application/json",
                 signing.SIGNATURE_HEADER: signing.sign(secret, raw.encode())}


def send_sandbox(stack, tenant_id, raw, headers):
    return guest_call(stack, "pagamento-sandbox", f"/webhook/{tenant_id}", raw, headers)


# -- packages and orders ---------------------------------------------------------------------------

def test_new_tenant_has_default_packages_and_the_sandbox_gateway(world):
    packages = world.viewer.call("billing", "GET", "/packages")
    assert packages.status == 200, packages
    catalogue = packages.body["catalogue"]
    by_id = {p["id"]: p for p in catalogue["packages"]}
    assert by_id["pkg-50"]["credits"] == 50 and by_id["pkg-50"]["price_cents"] == 5000
    assert all(catalogue["min_purchase_credits"] <= p["credits"] <= catalogue["max_purchase_credits"]
               for p in catalogue["packages"])
    plugins = {p["id"]: p for p in world.owner.call("plugins", "GET", "/").body["items"]}
    assert plugins["pagamento-sandbox"]["enabled"]


def test_order_gives_pix_instructions_and_is_idempotent(world):
    key = f"k-{unique_suffix()}"
    first = buy(world.analyst, "pkg-100", "pix", key)
    assert first.status == 201, first
    order, payment = first.body["order"], first.body["payment"]
    assert order["status"] == "pending" and order["credits"] == 100 and order["amount_cents"] == 10000
    assert order["gateway"] == "pagamento-sandbox" and first.body["audit_id"]
    assert payment["pix_payload"].startswith("000201") and payment["pix_qr_code_base64"]
    again = buy(world.analyst, "pkg-100", "pix", key)
    assert again.status == 201 and again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"
    reused = buy(world.analyst, "pkg-50", "pix", key)
    assert reused.status == 422 and reused.error_code == "idempotency_key_reused"
    listed = world.analyst.call("billing", "GET", "/orders?status=pending&limit=100")
    assert order["id"] in [o["id"] for o in listed.body["items"]]
    assert len([e for e in outbox(world.stack, world.a, "order.created")
                if event_data(e)["order_id"] == order["id"]]) == 1


def test_boleto_and_card_instructions(world):
    boleto = buy(world.analyst, method="boleto")
    assert boleto.status == 201 and boleto.body["payment"]["boleto_url"] and boleto.body["payment"]["boleto_line"]
    card = buy(world.analyst, method="credit_card")
    assert card.status == 201 and card.body["payment"]["checkout_url"]


def test_order_validation_and_permissions(world):
    assert world.viewer.call("billing", "POST", "/orders", {"package_id": "pkg-50", "method": "pix"},
                             headers={"idempotency-key": "v1"}).status == 403
    no_key = world.analyst.call("billing", "POST", "/orders", {"package_id": "pkg-50", "method": "pix"})
    assert no_key.status == 400 and no_key.error_code == "idempotency_key_required"
    assert buy(world.analyst, package_id="nope").status == 404
    bad = buy(world.analyst, method="bitcoin")
    assert bad.status == 422
    own = buy(world.analyst).body["order"]["id"]
    assert world.viewer.call("billing", "GET", f"/orders/{own}").status == 404  # not theirs
    assert world.owner.call("billing", "GET", f"/orders/{own}").status == 200  # managers see all
    assert world.g_owner.call("billing", "GET", f"/orders/{own}").status == 404  # another tenant


# -- the sandbox purchase, end to end ---------------------------------------------------------------

def test_simulated_payment_credits_the_member_once(world):
    before = balance(world.analyst)
    order = buy(world.analyst, "pkg-50").body["order"]
    paid = world.analyst.call("pagamento-sandbox", "POST", "/simulate-payment",
                              {"order_id": order["id"]}, tenant=world.a)
    assert paid.status == 200, paid
    assert paid.body["webhook"]["status"] == 200 and paid.body["webhook"]["body"]["outcome"] == "accepted"
    results = deliver_all(world.stack, world.a, order["id"])
    # "paid" — or "duplicate" when the relay (triggered by the outbox row) got there first
    assert len(results) == 1 and (results[0].body.get("status") == "paid" or results[0].body.get("duplicate"))
    assert balance(world.analyst) == before + 50
    assert order_status(world.analyst, order["id"]) == "paid"
    again = deliver_all(world.stack, world.a, order["id"])  # the relay redelivers
    assert again[0].body.get("duplicate") is True
    assert balance(world.analyst) == before + 50
    ledger = world.analyst.call("billing", "GET", f"/ledger?reference_id={order['id']}").body["items"]
    assert [(e["type"], e["amount_credits"]) for e in ledger] == [("purchase", 50)]
    purchased = [event_data(e) for e in outbox(world.stack, world.a, "credits.purchased")]
    assert [p["credits"] for p in purchased if p["order_id"] == order["id"]] == [50]


def test_someone_elses_order_cannot_be_simulated_by_a_plain_member(world):
    order = buy(world.analyst).body["order"]
    other = world.viewer.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order["id"]},
                              tenant=world.a)
    assert other.status == 404 and other.error_code == "order_not_found"
    assert order_status(world.analyst, order["id"]) == "pending"


def test_same_webhook_five_times_and_five_times_concurrently_credits_once(world):
    start = balance(world.analyst)
    sequential = buy(world.analyst).body["order"]["id"]
    raw, headers = sandbox_webhook(world.a, sequential)
    answers = [send_sandbox(world.stack, world.a, raw, headers) for _ in range(5)]
    assert [a.status for a in answers] == [200] * 5
    assert [a.body["outcome"] for a in answers] == ["accepted"] + ["duplicate"] * 4

    concurrent = buy(world.analyst).body["order"]["id"]
    raw, headers = sandbox_webhook(world.a, concurrent)
    with ThreadPoolExecutor(5) as pool:
        answers = list(pool.map(lambda _: send_sandbox(world.stack, world.a, raw, headers), range(5)))
    assert [a.status for a in answers] == [200] * 5
    assert sorted(a.body["outcome"] for a in answers) == ["accepted"] + ["duplicate"] * 4

    for order_id in (sequential, concurrent):
        assert len(payment_events(world.stack, world.a, order_id)) == 1
    # and the relay delivering each event five times, concurrently, still credits once
    rows = payment_events(world.stack, world.a, concurrent)
    with ThreadPoolExecutor(5) as pool:
        results = list(pool.map(lambda _: deliver(world.stack, rows[0]), range(5)))
    assert all(r.status == 200 for r in results), results
    deliver_all(world.stack, world.a, sequential)
    assert balance(world.analyst) == start + 100
    assert order_status(world.analyst, concurrent) == "paid" and order_status(world.analyst, sequential) == "paid"


def test_bad_signatures_get_401_and_change_nothing(world):
    order = buy(world.analyst).body["order"]["id"]
    before = snapshot(world.stack, world.a)
    raw, headers = sandbox_webhook(world.a, order, secret="not-the-tenant-secret")
    assert send_sandbox(world.stack, world.a, raw, headers).status == 401
    raw, headers = sandbox_webhook(world.a, order)
    assert send_sandbox(world.stack, world.a, raw.replace("5000", "9999"), headers).status == 401  # tampered
    assert send_sandbox(world.stack, world.a, raw, {"content-type": "application/json"}).status == 401
    stale = signing.sign(SANDBOX_SECRET, raw.encode(), timestamp=int(time.time()) - 7200)
    assert send_sandbox(world.stack, world.a, raw, {signing.SIGNATURE_HEADER: stale}).status == 401
    assert send_sandbox(world.stack, "no-such-tenant", raw, headers).status == 401
    assert snapshot(world.stack, world.a) == before


def test_webhook_for_another_tenants_order_changes_nothing(world):
    order = buy(world.analyst).body["order"]["id"]
    before_a, before_g = snapshot(world.stack, world.a), snapshot(world.stack, world.g)
    # tenant A's order, through tenant G's own (valid) Asaas webhook
    hook = fixture("asaas", "webhook_payment_received")
    hook["id"] = f"evt_{unique_suffix()}"
    hook["payment"]["externalReference"] = order
    answer = guest_call(world.stack, "pagamento-asaas", f"/webhook/{world.g}", json.dumps(hook),
                        {"asaas-access-token": ASAAS_TOKEN})
    assert answer.status == 200 and answer.body["outcome"] == "ignored" and answer.body["reason"] == "unknown_order"
    # G's token on A's URL: A has no Asaas configured at all
    answer = guest_call(world.stack, "pagamento-asaas", f"/webhook/{world.a}", json.dumps(hook),
                        {"asaas-access-token": ASAAS_TOKEN})
    assert answer.status == 401
    # a sandbox webhook signed for G naming A's order, sent to A
    raw, headers = sandbox_webhook(world.a, order, secret="tenant-g-sandbox-secret-0002")
    assert send_sandbox(world.stack, world.a, raw, headers).status == 401
    assert snapshot(world.stack, world.a) == before_a and snapshot(world.stack, world.g) == before_g
    assert order_status(world.analyst, order) == "pending"


# -- Asaas and Pagar.me webhooks on the stack --------------------------------------------------------

def test_asaas_webhook_token_and_dedupe(world):
    order = f"oas{unique_suffix()}"
    insert_order(world.stack, world.g, order, world.g_owner.user_id, "pagamento-asaas")
    hook = fixture("asaas", "webhook_payment_received")
    hook["id"] = f"evt_{unique_suffix()}&1"
    hook["payment"]["externalReference"] = order
    raw = json.dumps(hook)
    before = snapshot(world.stack, world.g)
    for token in ("", ASAAS_TOKEN[:-1], ASAAS_TOKEN + "x", "$aact_hmlg_000000000000000000000000000000"):
        assert guest_call(world.stack, "pagamento-asaas", f"/webhook/{world.g}", raw,
                          {"asaas-access-token": token}).status == 401
    assert snapshot(world.stack, world.g) == before
    start = balance(world.g_owner)
    outcomes = [guest_call(world.stack, "pagamento-asaas", f"/webhook/{world.g}", raw,
                           {"asaas-access-token": ASAAS_TOKEN}).body["outcome"] for _ in range(5)]
    assert outcomes == ["accepted"] + ["duplicate"] * 4
    deliver_all(world.stack, world.g, order)
    assert balance(world.g_owner) == start + 50


def test_pagarme_signed_webhooks(world, keypair, jwks):
    order = f"opm{unique_suffix()}"
    insert_order(world.stack, world.g, order, world.g_owner.user_id, "pagamento-pagarme")
    start = balance(world.g_owner)
    hook = fixture("pagarme", "webhook_order_paid")
    hook["id"] = f"hook_{unique_suffix()}"
    hook["data"]["code"] = order
    hook["data"]["metadata"]["order_id"] = order
    raw = json.dumps(hook, indent=1)  # the signature covers these exact bytes
    before = snapshot(world.stack, world.g)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for header in ("", "alg=RS256; kid=kid-test; signature=AAAA", sign_rs256(other, "kid-test", raw.encode()),
                   sign_rs256(keypair, "kid-test", raw.encode() + b" ")):
        answer = guest_call(world.stack, "pagamento-pagarme", f"/webhook/{world.g}", raw,
                            {"x-webhook-asymmetric-signature": header})
        assert answer.status == 401, answer
    assert snapshot(world.stack, world.g) == before
    header = sign_rs256(keypair, "kid-test", raw.encode())
    answers = [guest_call(world.stack, "pagamento-pagarme", f"/webhook/{world.g}", raw,
                          {"x-webhook-asymmetric-signature": header}) for _ in range(3)]
    assert [a.body["outcome"] for a in answers] == ["accepted", "duplicate", "duplicate"]
    # charge.paid for the same payment: another event id, same order → credited once all the same
    charge = fixture("pagarme", "webhook_charge_paid")
    charge["id"] = f"hook_{unique_suffix()}"
    charge["data"]["order"]["code"] = charge["data"]["code"] = order
    charge["data"]["order"]["metadata"]["order_id"] = order
    raw2 = json.dumps(charge)
    answer = guest_call(world.stack, "pagamento-pagarme", f"/webhook/{world.g}", raw2,
                        {"x-webhook-asymmetric-signature": sign_rs256(keypair, "kid-test", raw2.encode())})
    assert answer.body["outcome"] == "accepted"
    deliver_all(world.stack, world.g, order)
    assert balance(world.g_owner) == start + 50
    assert jwks.hits <= 2  # keys cached per URL in the warm worker


# -- out of order, reversals, negative balances -------------------------------------------------------

def test_out_of_order_events_end_in_the_right_state(world):
    stack, a = world.stack, world.a
    start = balance(world.analyst)
    # refunded before paid: the refund proves the payment; both apply, the late "paid" changes nothing
    first = buy(world.analyst).body["order"]["id"]
    for outcome in ("refunded", "paid"):
        raw, headers = sandbox_webhook(a, first, outcome)
        assert send_sandbox(stack, a, raw, headers).status == 200
    # paid, then a late "failed" (an earlier attempt's): stays paid
    second = buy(world.analyst).body["order"]["id"]
    for outcome in ("paid", "failed"):
        raw, headers = sandbox_webhook(a, second, outcome)
        send_sandbox(stack, a, raw, headers)
    # chargeback before paid
    third = buy(world.analyst).body["order"]["id"]
    for outcome in ("chargeback", "paid"):
        raw, headers = sandbox_webhook(a, third, outcome)
        send_sandbox(stack, a, raw, headers)
    for order in (first, second, third):
        deliver_all(stack, a, order)
    assert order_status(world.analyst, first) == "refunded"
    assert order_status(world.analyst, second) == "paid"
    assert order_status(world.analyst, third) == "chargeback"
    assert balance(world.analyst) == start + 50
    ledger = world.analyst.call("billing", "GET", f"/ledger?reference_id={first}").body["items"]
    assert sorted((e["type"], e["amount_credits"]) for e in ledger) == [("purchase", 50), ("refund", 50)]


def test_payment_before_the_order_exists_is_retried_until_it_does(world):
    order = f"olate{unique_suffix()}"
    envelope = EventEnvelope(type="payment.confirmed", tenant_id=world.a,
                             data={"order_id": order, "gateway": "pagamento-sandbox", "gateway_event_id": "e1",
                                   "amount_cents": 5000, "currency": "BRL"})
    early = call(world.stack, None, "billing", "POST", "/events", raw_body=envelope.to_json())
    assert early.status == 409 and early.error_code == "order_not_found_yet"  # the relay retries later
    insert_order(world.stack, world.a, order, world.analyst.user_id, "pagamento-sandbox")
    start = balance(world.analyst)
    later = call(world.stack, None, "billing", "POST", "/events", raw_body=envelope.to_json())
    assert later.status == 200 and later.body["status"] == "paid"
    assert balance(world.analyst) == start + 50


def test_events_route_is_for_the_relay_only(world):
    envelope = EventEnvelope(type="payment.confirmed", tenant_id=world.a, data={"order_id": "x"})
    assert world.owner.call("billing", "POST", "/events", raw_body=envelope.to_json()).status == 403


def test_chargeback_after_spending_leaves_a_negative_balance_and_blocks_consultas(world):
    stack, a = world.stack, world.a
    spender = add_member(world.owner, "analyst")
    order = buy(spender, "pkg-100").body["order"]["id"]
    assert spender.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order},
                        tenant=a).status == 200
    deliver_all(stack, a, order)
    assert balance(spender) == 100
    consulta = spender.call("consultas", "POST", "/", CONSULTA, headers={"idempotency-key": f"c-{unique_suffix()}"})
    assert consulta.status in (200, 201), consulta
    assert balance(spender) == 0
    charged_back = spender.call("pagamento-sandbox", "POST", "/simulate-payment",
                                {"order_id": order, "outcome": "chargeback"}, tenant=a)
    assert charged_back.status == 200, charged_back
    deliver_all(stack, a, order)
    assert balance(spender) == -100
    assert order_status(spender, order) == "chargeback"
    blocked = spender.call("consultas", "POST", "/", CONSULTA, headers={"idempotency-key": f"c-{unique_suffix()}"})
    assert blocked.status == 402, blocked
    assert balance(spender) == -100


# -- gateways true to the providers (issue 11): sourced fixtures, end to end ----------------------------

def pagarme_send(world, keypair, name, order, **changes):
    hook = fixture("pagarme", name)
    hook["id"] = f"hook_{unique_suffix()}"
    hook["data"]["code"] = hook["data"]["order"]["code"] = order
    hook["data"]["order"]["metadata"]["order_id"] = order
    hook["data"].update(changes)
    raw = json.dumps(hook)
    answer = guest_call(world.stack, "pagamento-pagarme", f"/webhook/{world.g}", raw,
                        {"x-webhook-asymmetric-signature": sign_rs256(keypair, "kid-test", raw.encode())})
    assert answer.status == 200 and answer.body["outcome"] == "accepted", answer
    return deliver_all(world.stack, world.g, order)


def test_pagarme_overpaid_credits_the_package_once_and_underpaid_reviews(world, keypair, jwks):
    start = balance(world.g_owner)
    over = f"opo{unique_suffix()}"
    insert_order(world.stack, world.g, over, world.g_owner.user_id, "pagamento-pagarme")
    pagarme_send(world, keypair, "webhook_charge_overpaid", over)
    pagarme_send(world, keypair, "webhook_charge_paid", over)  # the same payment's other event
    assert balance(world.g_owner) == start + 50 and order_status(world.g_owner, over) == "paid"
    under = f"opu{unique_suffix()}"
    insert_order(world.stack, world.g, under, world.g_owner.user_id, "pagamento-pagarme")
    pagarme_send(world, keypair, "webhook_charge_underpaid", under)
    shown = world.g_owner.call("billing", "GET", f"/orders/{under}").body["order"]
    assert (shown["status"], shown["review_reason"], shown["paid_cents"]) == ("review", "underpaid", 100)
    assert balance(world.g_owner) == start + 50


def test_pagarme_partial_cancel_reverses_only_the_canceled_share(world, keypair, jwks):
    order = f"opc{unique_suffix()}"
    insert_order(world.stack, world.g, order, world.g_owner.user_id, "pagamento-pagarme")
    start = balance(world.g_owner)
    pagarme_send(world, keypair, "webhook_charge_paid", order)
    pagarme_send(world, keypair, "webhook_charge_partial_canceled", order)  # R$ 15,00 of R$ 50,00 back
    assert balance(world.g_owner) == start + 50 - 15
    pagarme_send(world, keypair, "webhook_charge_refunded", order)  # then the rest
    assert balance(world.g_owner) == start and order_status(world.g_owner, order) == "refunded"


def asaas_send(world, name, order, **payment):
    hook = fixture("asaas", name)
    hook["id"] = f"evt_{unique_suffix()}&1"
    hook["payment"]["externalReference"] = order
    hook["payment"].update(payment)
    answer = guest_call(world.stack, "pagamento-asaas", f"/webhook/{world.g}", json.dumps(hook),
                        {"asaas-access-token": ASAAS_TOKEN})
    assert answer.status == 200, answer
    return deliver_all(world.stack, world.g, order) if answer.body["outcome"] == "accepted" else []


def test_asaas_partial_refund_of_30_percent_reverses_30_percent_of_the_credits(world):
    order = f"oap{unique_suffix()}"
    insert_order(world.stack, world.g, order, world.g_owner.user_id, "pagamento-asaas", credits=100,
                 amount_cents=10000)
    start = balance(world.g_owner)
    asaas_send(world, "webhook_payment_received", order, value=100.0)
    refund = fixture("asaas", "webhook_payment_partially_refunded")["payment"]["refunds"][0]
    asaas_send(world, "webhook_payment_partially_refunded", order, value=100.0, refunds=[{**refund, "value": 30.0}])
    assert balance(world.g_owner) == start + 70
    shown = world.g_owner.call("billing", "GET", f"/orders/{order}").body["order"]
    assert (shown["status"], shown["reversed_credits"], shown["refunded_cents"]) == ("partially_refunded", 30, 3000)
    ledger = world.g_owner.call("billing", "GET", f"/ledger?reference_id={order}").body["items"]
    assert sorted((e["type"], e["amount_credits"]) for e in ledger) == [("purchase", 100), ("refund", 30)]


def test_asaas_overdue_keeps_the_order_payable(world):
    order = f"oao{unique_suffix()}"
    insert_order(world.stack, world.g, order, world.g_owner.user_id, "pagamento-asaas")
    start = balance(world.g_owner)
    asaas_send(world, "webhook_payment_overdue", order)  # ignored: the PIX QR is still payable
    assert order_status(world.g_owner, order) == "pending"
    asaas_send(world, "webhook_payment_received", order)
    assert balance(world.g_owner) == start + 50 and order_status(world.g_owner, order) == "paid"
