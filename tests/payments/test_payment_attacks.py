"""Issue 9 findings 1-3, attacked the way an outsider would, on the local stack: each attack is refused
and leaves balances, orders, the ledger and the outbox as they were (docs/security.md, "Payments").

1. forged sandbox payments: guest webhooks signed with a guessed or another tenant's key, with the
   constant the repository used to hold, to a tenant without a secret, or where simulation is off;
2. the paid amount never compared: a correctly signed 1-cent (or foreign-currency) webhook for a big
   order credits nothing and sends the order to review (audit entry + ``payment.review`` event);
3. simulation by strangers: guests, other tenants' members and plain members on someone else's order.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from appwrite.services.functions import Functions

from bigtech.plugin_loader import state
from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for, unique_suffix

from .helpers import plugin_module
from .stack_support import (
    balance,
    deliver_all,
    event_data,
    guest_call,
    order_status,
    outbox,
    rows,
    snapshot,
    tables,
)

signing = plugin_module("sandbox", "signing")
OLD_CONSTANT = "bigtech-sandbox-development-only"  # the key the repository used to derive secrets from


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    a, owner = create_tenant(stack, admin, tenant_id_for("atk"))
    analyst = add_member(owner, "analyst")
    viewer = add_member(owner, "viewer")
    b, stranger = create_tenant(stack, admin, tenant_id_for("atkb"))

    class World:
        pass

    w = World()
    w.stack, w.admin, w.a, w.owner, w.analyst, w.viewer, w.b, w.stranger = \
        stack, admin, a, owner, analyst, viewer, b, stranger
    return w


def buy(actor, package_id="pkg-50"):
    result = actor.call("billing", "POST", "/orders", {"package_id": package_id, "method": "pix"},
                        headers={"idempotency-key": f"atk-{unique_suffix()}"})
    assert result.status == 201, result
    return result.body["order"]


def tenant_secret(stack, tenant_id):
    row = tables(stack).get_row(f"tenant_{tenant_id}", state.TABLE, "pagamento-sandbox")
    return state.from_row(row).secrets(tenant_id).get("webhook_secret")


def signed_webhook(order_id, secret, amount=5000, currency="BRL", outcome="paid"):
    payload = {"id": f"sbx_evt_{unique_suffix()}", "type": f"charge.{outcome}", "created_at": "2025-07-01T12:00:00Z",
               "data": {"order_id": order_id, "charge_id": f"sbx_ch_{order_id}", "amount_cents": amount,
                        "currency": currency, "method": "pix"}}
    raw = json.dumps(payload, separators=(",", ":"))
    return raw, {"content-type": "application/json", signing.SIGNATURE_HEADER: signing.sign(secret, raw.encode())}


def send(stack, tenant_id, raw, headers):
    return guest_call(stack, "pagamento-sandbox", f"/webhook/{tenant_id}", raw, headers)


def ledger_for(stack, tenant_id, order_id):
    return sorted((r.data.get("type"), r.data.get("amount")) for r in rows(stack, tenant_id, "ledger")
                  if r.data.get("reference_id") == order_id)


def simulate(actor, order_id, tenant=None, **extra):
    return actor.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order_id, **extra},
                      tenant=tenant)


# -- 1. forged sandbox payments ------------------------------------------------------------------------

@pytest.mark.slow
def test_each_tenant_gets_its_own_random_webhook_secret_never_shown(world):
    secret_a, secret_b = tenant_secret(world.stack, world.a), tenant_secret(world.stack, world.b)
    assert secret_a and secret_b and secret_a != secret_b and len(secret_a) >= 40
    derived = hmac.new(OLD_CONSTANT.encode(), f"pagamento-sandbox:webhook:{world.a}".encode(),
                       hashlib.sha256).hexdigest()
    assert secret_a != derived
    listed = {p["id"]: p for p in world.owner.call("plugins", "GET", "/").body["items"]}
    assert listed["pagamento-sandbox"]["secrets_set"] == ["webhook_secret"]
    assert secret_a not in json.dumps(listed)


def test_guest_webhooks_with_forged_signatures_change_nothing(world):
    order = buy(world.analyst, "pkg-1000")["id"]
    before, start = snapshot(world.stack, world.a), balance(world.analyst)
    derived = hmac.new(OLD_CONSTANT.encode(), f"pagamento-sandbox:webhook:{world.a}".encode(),
                       hashlib.sha256).hexdigest()
    for key in (derived, OLD_CONSTANT + "-0000", tenant_secret(world.stack, world.b), "guessed-secret-0123456789"):
        raw, headers = signed_webhook(order, key, amount=100000)
        answer = send(world.stack, world.a, raw, headers)
        assert answer.status == 401 and answer.error_code == "invalid_webhook", answer
    assert snapshot(world.stack, world.a) == before and balance(world.analyst) == start
    assert order_status(world.analyst, order) == "pending" and ledger_for(world.stack, world.a, order) == []


@pytest.mark.slow
def test_a_tenant_without_a_secret_refuses_every_webhook_until_it_enables_again(world):
    tenant, owner = create_tenant(world.stack, world.admin, tenant_id_for("nosec"))
    order = buy(owner)["id"]
    # the plugin row as a tenant enabled before secrets were generated has it: enabled, no secret
    tables(world.stack).upsert_row(f"tenant_{tenant}", state.TABLE, "pagamento-sandbox", state.row_data(
        tenant, "pagamento-sandbox", enabled=True, config={}, secrets={}, priority=state.DEFAULT_PRIORITY,
        version="1.0.0"))
    before = snapshot(world.stack, tenant)
    for key in ("", OLD_CONSTANT, "any-secret-at-all-0123"):
        raw, headers = signed_webhook(order, key or "x" * 16)
        assert send(world.stack, tenant, raw, headers).status == 401
    refused = simulate(owner, order)
    assert refused.status == 409 and refused.error_code == "webhook_secret_missing", refused
    assert snapshot(world.stack, tenant) == before
    assert owner.call("plugins", "PUT", "/pagamento-sandbox", {"enabled": True}).status == 200
    assert tenant_secret(world.stack, tenant)  # enabling again makes one
    assert simulate(owner, order).status == 200


@pytest.mark.slow
def test_allow_simulation_false_refuses_signed_webhooks_and_simulation(world):
    tenant, owner = create_tenant(world.stack, world.admin, tenant_id_for("nosim"))
    order = buy(owner)["id"]
    assert owner.call("plugins", "PUT", "/pagamento-sandbox",
                      {"enabled": True, "config": {"allow_simulation": False}}).status == 200
    before, start = snapshot(world.stack, tenant), balance(owner)
    raw, headers = signed_webhook(order, tenant_secret(world.stack, tenant))  # even with the right key
    assert send(world.stack, tenant, raw, headers).status == 401
    refused = simulate(owner, order)
    assert refused.status == 403 and refused.error_code == "simulation_disabled"
    assert snapshot(world.stack, tenant) == before and balance(owner) == start


def test_production_has_no_simulation_at_all(world, monkeypatch):
    order = buy(world.analyst)["id"]
    raw, headers = signed_webhook(order, tenant_secret(world.stack, world.a))
    before = snapshot(world.stack, world.a)
    monkeypatch.setenv("BIGTECH_ENV", "production")  # the stack passes BIGTECH_* to every function
    refused = simulate(world.analyst, order)
    assert refused.status == 404 and refused.error_code == "simulation_unavailable"
    assert send(world.stack, world.a, raw, headers).status == 401
    assert snapshot(world.stack, world.a) == before


# -- 2. the amount and currency are compared with the order ------------------------------------------------

@pytest.mark.parametrize(("amount", "currency", "reason"), [(1, "BRL", "underpaid"),
                                                           (100000, "USD", "currency_mismatch")])
def test_a_signed_webhook_for_the_wrong_amount_credits_nothing_and_asks_for_review(world, amount, currency, reason):
    order = buy(world.analyst, "pkg-1000")
    assert order["amount_cents"] == 100000
    start = balance(world.analyst)
    raw, headers = signed_webhook(order["id"], tenant_secret(world.stack, world.a), amount=amount, currency=currency)
    assert send(world.stack, world.a, raw, headers).status == 200  # authentic: accepted for billing to judge
    results = deliver_all(world.stack, world.a, order["id"])
    assert results[0].body.get("review_reason") == reason or results[0].body.get("duplicate"), results
    assert balance(world.analyst) == start
    assert ledger_for(world.stack, world.a, order["id"]) == []
    shown = world.analyst.call("billing", "GET", f"/orders/{order['id']}").body["order"]
    assert (shown["status"], shown["review_reason"]) == ("review", reason)
    reviews = [event_data(e) for e in outbox(world.stack, world.a, "payment.review")]
    mine = [r for r in reviews if r["order_id"] == order["id"]]
    assert len(mine) == 1 and mine[0]["reason"] == reason and mine[0]["expected_cents"] == 100000
    audit = [r.data for r in rows(world.stack, world.a, "audit") if r.data.get("action") == "orders.review"
             and r.data.get("resource_id") == order["id"]]
    assert len(audit) == 1
    # the real payment arriving afterwards still credits, once
    raw, headers = signed_webhook(order["id"], tenant_secret(world.stack, world.a), amount=100000)
    assert send(world.stack, world.a, raw, headers).status == 200
    deliver_all(world.stack, world.a, order["id"])
    assert balance(world.analyst) == start + 1000 and order_status(world.analyst, order["id"]) == "paid"


# -- 3. who may simulate -------------------------------------------------------------------------------------

def test_guests_cannot_simulate(world):
    order = buy(world.analyst)["id"]
    before = snapshot(world.stack, world.a)
    for outcome in ("paid", "refunded"):
        for headers in ({}, {"x-tenant-id": world.a}):
            answer = guest_call(world.stack, "pagamento-sandbox", "/simulate-payment",
                                json.dumps({"order_id": order, "outcome": outcome}), headers)
            assert answer.status == 401, answer
    assert snapshot(world.stack, world.a) == before and order_status(world.analyst, order) == "pending"


def test_other_tenants_members_get_404_and_change_nothing(world):
    order = buy(world.analyst)["id"]
    before = snapshot(world.stack, world.a)
    for tenant in (None, world.a):  # their own tenant, or naming the victim's
        answer = simulate(world.stranger, order, tenant=tenant, outcome="refunded")
        assert answer.status == 404 and answer.error_code == "order_not_found", answer
    assert snapshot(world.stack, world.a) == before and order_status(world.analyst, order) == "pending"


def test_a_plain_member_cannot_simulate_someone_elses_order_but_a_manager_can(world):
    order = buy(world.analyst)["id"]
    before = snapshot(world.stack, world.a)
    answer = simulate(world.viewer, order, outcome="refunded")
    assert answer.status == 404 and snapshot(world.stack, world.a) == before
    start = balance(world.analyst)
    assert simulate(world.owner, order).status == 200  # owners/admins may pay any order of their tenant
    deliver_all(world.stack, world.a, order)
    assert balance(world.analyst) == start + 50


def test_simulation_resolves_the_tenant_from_the_member_and_never_executes_itself(world):
    order = buy(world.analyst)["id"]
    functions = Functions(make_client(world.stack))
    before = functions.list_executions("pagamento-sandbox").total
    answer = world.analyst.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order})
    assert answer.status == 200, answer  # no x-tenant-id needed for a member of one tenant
    assert answer.body["tenant_id"] == world.a and answer.body["webhook"]["body"]["outcome"] == "accepted"
    after = functions.list_executions("pagamento-sandbox").total
    assert after - before == 1  # the simulation itself: the webhook ran in-process, not as a self-execution
