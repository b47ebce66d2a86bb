"""funcional-webhooks on the local stack: endpoints, Standard Webhooks signatures, retries, 410, rotation.

The receiver is a local HTTP server; it is reachable only because each test lists it in
``BIGTECH_OUTBOUND_ALLOW_HOSTS`` (the outbound guard refuses loopback otherwise). The retry schedule is
shortened through ``BIGTECH_WEBHOOK_RETRY_SCHEDULE``.
"""

from __future__ import annotations

import json
import time

import pytest
from appwrite.services.tables_db import TablesDB
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from bigtech import metrics
from tests.conftest import make_client
from tests.support.actors import add_member

from .conftest import new_tenant, run_schedule, send_event, wait_for
from .receiver import WebhookReceiver

PLUGIN = "funcional-webhooks"
CPF = "52998224725"


@pytest.fixture(autouse=True)
def short_schedule(monkeypatch):
    monkeypatch.setenv("BIGTECH_WEBHOOK_RETRY_SCHEDULE", "0,0.3,0.3,0.3,0.3")


@pytest.fixture
def receiver(monkeypatch):
    with WebhookReceiver() as running:
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", running.host_port)
        yield running


@pytest.fixture(scope="module")
def tenant(stack, admin):
    return new_tenant(stack, admin, "wh", PLUGIN)


def delivery_counters(stack) -> dict[str, int]:
    sums = metrics.totals(TablesDB(make_client(stack)))
    return {json.loads(labels)["outcome"]: value for (name, labels), value in sums.items()
            if name == "bigtech_webhook_deliveries_total"}


def create_endpoint(owner, url, **extra):
    result = owner.call(PLUGIN, "POST", "/endpoints", {"url": url, **extra})
    assert result.status == 201, result
    return result.body["endpoint"], result.body["secret"]


def verify(secret, hit):
    return Webhook(secret).verify(hit["body"], hit["headers"])


@pytest.mark.slow
def test_a_consulta_event_arrives_signed_through_the_relay(stack, tenant, receiver):
    _tenant_id, owner = tenant
    endpoint, secret = create_endpoint(owner, receiver.url(), events=["consulta.*"], description="ERP")
    assert secret.startswith("whsec_") and "secret" not in json.dumps(endpoint)
    assert owner.call("billing", "POST", "/grants", {"user_id": owner.user_id, "credits": 100,
                                                      "reason": "tests"}).status == 201
    consulta = owner.call("consultas", "POST", "/", {"category": "cadastral", "document": CPF,
                                                      "purpose": "onboarding/KYC", "legal_basis": "art7_V"}
                          ).unwrapped("consulta")
    assert consulta.status in (200, 201), consulta
    consulta_id = consulta.body["id"]
    [hit] = wait_for(lambda: receiver.hits, timeout=30)  # outbox → relay → /events → POST
    payload = verify(secret, hit)
    assert payload["type"] == "consulta.completed"
    assert payload["data"]["consulta_id"] == consulta_id and set(payload) == {"type", "timestamp", "data"}
    assert CPF not in hit["body"] and "529.982.247-25" not in hit["body"]
    assert hit["headers"]["webhook-signature"].startswith("v1,")
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 44).verify(hit["body"], hit["headers"])
    log = owner.call(PLUGIN, "GET", f"/endpoints/{endpoint['id']}/deliveries")
    assert log.status == 200 and log.body["items"][0]["status_code"] == 200
    assert log.body["items"][0]["message_id"] == hit["headers"]["webhook-id"]
    # the grant's credits.* event matched no filter: nothing else was sent
    time.sleep(1)
    assert len(receiver.hits) == 1


def test_500_three_times_then_200_is_one_successful_delivery(stack, tenant, receiver):
    tenant_id, owner = tenant
    receiver.statuses = [500, 500, 500, 200]
    counted = delivery_counters(stack)
    _endpoint, secret = create_endpoint(owner, receiver.url("/retry"), events=["order.created"])
    envelope, answer = send_event(stack, PLUGIN, tenant_id, "order.created", {"order_id": "o-1", "credits": 10})
    assert answer["endpoints"] == 1 and answer["failed"] == 1  # the immediate attempt
    report = run_schedule(stack, PLUGIN)  # waits for the 0.3 s steps inside its budget
    assert report["succeeded"] >= 1
    mine = [h for h in receiver.hits if h["path"] == "/retry"]
    assert [h["status"] for h in mine] == [500, 500, 500, 200]
    assert {h["headers"]["webhook-id"] for h in mine} == {envelope["id"]}
    assert all(verify(secret, h)["data"]["order_id"] == "o-1" for h in mine)
    # nothing more on later runs, and the event redelivered by the relay is the same message: no new send
    run_schedule(stack, PLUGIN)
    send_event(stack, PLUGIN, tenant_id, "order.created", {"order_id": "o-1"}, event_id=envelope["id"])
    assert len([h for h in receiver.hits if h["path"] == "/retry"]) == 4
    message = owner.call(PLUGIN, "GET", f"/messages/{envelope['id']}/deliveries")
    assert message.status == 200, message
    assert [d["status"] for d in message.body["deliveries"]] == ["succeeded"]
    assert sorted(a["attempt"] for a in message.body["attempts"]) == [1, 2, 3, 4]
    assert sum(1 for a in message.body["attempts"] if a["status_code"] == 200) == 1
    after = delivery_counters(stack)  # what the metrics function serves as bigtech_webhook_deliveries_total
    assert after.get("pending", 0) - counted.get("pending", 0) >= 3  # other tenants may deliver meanwhile
    assert after.get("succeeded", 0) - counted.get("succeeded", 0) >= 1


def test_410_disables_the_endpoint_with_an_audit_entry(stack, tenant, receiver):
    tenant_id, owner = tenant
    receiver.statuses = [410]
    endpoint, _ = create_endpoint(owner, receiver.url("/gone"), events=["payment.*"])
    send_event(stack, PLUGIN, tenant_id, "payment.confirmed", {"order_id": "o-2"})
    state = owner.call(PLUGIN, "GET", f"/endpoints/{endpoint['id']}").body["endpoint"]
    assert state["enabled"] is False and state["disabled_reason"] == "gone"
    send_event(stack, PLUGIN, tenant_id, "payment.confirmed", {"order_id": "o-3"})
    run_schedule(stack, PLUGIN)
    assert len([h for h in receiver.hits if h["path"] == "/gone"]) == 1
    audit = owner.call("audit", "GET", "/", headers=None)
    actions = [e.get("action") for e in audit.body.get("items", [])] if audit.status == 200 else []
    assert "webhooks.endpoint_disabled" in actions


@pytest.mark.slow
def test_rotation_signs_with_both_secrets_during_the_window_only(stack, admin, receiver):
    tenant_id, owner = new_tenant(stack, admin, "whr", PLUGIN, {"rotation_window_seconds": 2})
    endpoint, old = create_endpoint(owner, receiver.url("/rot"), events=["member.*"])
    rotated = owner.call(PLUGIN, "POST", f"/endpoints/{endpoint['id']}/rotate-secret")
    assert rotated.status == 200, rotated
    new = rotated.body["secret"]
    assert new != old and new.startswith("whsec_")
    send_event(stack, PLUGIN, tenant_id, "member.added", {"member_id": "m-1", "role": "viewer"})
    during = receiver.hits[-1]
    assert len(during["headers"]["webhook-signature"].split(" ")) == 2
    assert verify(new, during) and verify(old, during)
    time.sleep(2.2)
    send_event(stack, PLUGIN, tenant_id, "member.added", {"member_id": "m-2", "role": "viewer"})
    after = receiver.hits[-1]
    assert len(after["headers"]["webhook-signature"].split(" ")) == 1
    assert verify(new, after)["data"]["member_id"] == "m-2"
    with pytest.raises(WebhookVerificationError):
        verify(old, after)


def test_test_event_replay_and_filters(stack, tenant, receiver):
    tenant_id, owner = tenant
    endpoint, secret = create_endpoint(owner, receiver.url("/t"), events=["credits.granted"])
    tested = owner.call(PLUGIN, "POST", f"/endpoints/{endpoint['id']}/test")
    assert tested.status == 200 and tested.body["attempt"]["status_code"] == 200, tested
    assert verify(secret, receiver.hits[-1])["type"] == "webhook.test"
    send_event(stack, PLUGIN, tenant_id, "credits.released", {"amount": 1})  # filtered out
    envelope, _ = send_event(stack, PLUGIN, tenant_id, "credits.granted", {"amount": 5})
    count = len(receiver.hits)
    replay = owner.call(PLUGIN, "POST", f"/messages/{envelope['id']}/replay")
    assert replay.status == 200 and replay.body["replayed"] == 1, replay
    assert len(receiver.hits) == count + 1
    assert receiver.hits[-1]["headers"]["webhook-id"] == envelope["id"]  # same message, same id
    types = [json.loads(h["body"])["type"] for h in receiver.hits if h["path"] == "/t"]
    assert "credits.released" not in types
    since = owner.call(PLUGIN, "POST", f"/endpoints/{endpoint['id']}/replay",
                       {"since": "2020-01-01T00:00:00Z", "only_failed": False})
    assert since.status == 200 and since.body["replayed"] >= 2
    run_schedule(stack, PLUGIN)
    assert len(receiver.hits) >= count + 3


def test_endpoint_rules_and_access(stack, tenant, monkeypatch):
    _tenant_id, owner = tenant
    monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", "")
    for url in ("http://127.0.0.1:9/hook", "https://169.254.169.254/x", "https://localhost/x", "ftp://x.com/"):
        bad = owner.call(PLUGIN, "POST", "/endpoints", {"url": url})
        assert bad.status == 422 and bad.error_code == "invalid_url", (url, bad)
    bad_filter = owner.call(PLUGIN, "POST", "/endpoints", {"url": "https://hooks.example.com/x", "events": ["nope.*"]})
    assert bad_filter.status == 422
    monkeypatch.setenv("BIGTECH_ENV", "production")
    plain = owner.call(PLUGIN, "POST", "/endpoints", {"url": "http://hooks.example.com/x"})
    assert plain.status == 422 and "https" in plain.raw
    analyst = add_member(owner, "analyst")
    assert analyst.call(PLUGIN, "GET", "/endpoints").status == 403
    assert analyst.call(PLUGIN, "POST", "/endpoints", {"url": "https://hooks.example.com/x"}).status == 403
    listed = owner.call(PLUGIN, "GET", "/endpoints")
    assert listed.status == 200 and "whsec_" not in listed.raw
    # the schedule's route refuses users; plugin routes refuse anyone without CORE's token
    assert owner.call(PLUGIN, "POST", "/").status == 403
    assert owner.call(PLUGIN, "POST", "/events", {"type": "order.created"}).status == 401


def test_a_tenant_without_the_plugin_gets_nothing(stack, admin):
    from tests.support.actors import create_tenant, tenant_id_for

    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("whx"))
    assert owner.call(PLUGIN, "GET", "/endpoints").error_code == "plugin_not_enabled"
    _, answer = send_event(stack, PLUGIN, tenant_id, "order.created", {"order_id": "x"})
    assert answer["reason"] == "not_enabled"


def test_an_endpoint_failing_past_the_limit_is_disabled(stack, tenant, receiver, monkeypatch):
    """The 5-day rule, with the limit shortened to 1 s: the first failure starts the streak, the retry
    after the limit disables the endpoint (audited, event staged) and nothing more is sent."""
    tenant_id, owner = tenant
    monkeypatch.setenv("BIGTECH_WEBHOOK_DISABLE_AFTER_SECONDS", "1")
    monkeypatch.setenv("BIGTECH_WEBHOOK_RETRY_SCHEDULE", "0,1.2,0.3,0.3")
    receiver.statuses = [503]
    endpoint, _ = create_endpoint(owner, receiver.url("/down"), events=["apikey.*"])
    send_event(stack, PLUGIN, tenant_id, "apikey.created", {"key_id": "k-1"})
    run_schedule(stack, PLUGIN)
    state = owner.call(PLUGIN, "GET", f"/endpoints/{endpoint['id']}").body["endpoint"]
    assert state["enabled"] is False and state["disabled_reason"] == "failing"
    assert len([h for h in receiver.hits if h["path"] == "/down"]) == 2
    # re-enabling starts a fresh streak
    again = owner.call(PLUGIN, "PATCH", f"/endpoints/{endpoint['id']}", {"enabled": True})
    assert again.status == 200 and again.body["endpoint"]["failing_since"] is None
