"""The public API of mercado-atacado over its function domain, with plain HTTP (no SDK, no session):
a key runs a consulta charged from the service wallet and seen in usage; revoked, expired, foreign,
out-of-scope and out-of-network keys are refused; per-key limits are exact under concurrency."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from bigtech.documents import cpf_check_digits
from tests.mercado.test_function_domains import domain

FN = "mercado-atacado"
CPF = "529982247" + cpf_check_digits("529982247")
BODY = {"category": "cadastral", "document": CPF, "purpose": "onboarding/KYC", "legal_basis": "art7_V"}
ALL_SCOPES = ["consultas:cadastral", "consultas:read", "balance:read", "usage:read"]


def new_key(owner, **fields):
    result = owner.call(FN, "POST", "/keys", {"name": "ERP", "scopes": ALL_SCOPES, **fields})
    assert result.status == 201, result
    return result.body["key"]["id"], result.body["secret"]


def api(stack, secret, method, path, **kwargs):
    headers = {**({"x-api-key": secret} if secret else {}), **kwargs.pop("headers", {})}
    return domain(stack, FN, method, path, headers=headers, **kwargs)


def test_a_key_runs_a_consulta_over_plain_http_charged_from_the_service_wallet(stack, market):
    key_id, secret = new_key(market.owner)
    before = api(stack, secret, "GET", "/v1/balance").json()["balance"]
    response = api(stack, secret, "POST", "/v1/consultas", json=BODY, headers={"idempotency-key": "k-1"})
    assert response.status_code == 201, response.text
    consulta = response.json()["consulta"]
    assert consulta["status"] in ("succeeded", "not_found") and consulta["cost_credits"] == 100
    assert consulta["user_id"] == f"apikey:{key_id}"
    assert response.headers["ratelimit-limit"] and response.headers["ratelimit-remaining"]
    after = api(stack, secret, "GET", "/v1/balance").json()["balance"]
    assert after["balance"] == before["balance"] - 100 and after["wallet_id"] == "tenant.service"
    # the same idempotency key: the first answer again, charged once
    replay = api(stack, secret, "POST", "/v1/consultas", json=BODY, headers={"idempotency-key": "k-1"})
    assert replay.status_code == 201 and replay.headers.get("idempotent-replayed") == "true"
    assert replay.json()["consulta"]["id"] == consulta["id"]
    assert api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"] == after["balance"]
    # readable by this key, listed, counted in usage per day and category
    assert api(stack, secret, "GET", f"/v1/consultas/{consulta['id']}").json()["consulta"]["api_key_id"] == key_id
    listed = api(stack, secret, "GET", "/v1/consultas?limit=10").json()
    assert [item["id"] for item in listed["items"]] == [consulta["id"]]
    usage = api(stack, secret, "GET", "/v1/usage?days=2").json()["usage"]
    assert usage["totals"] == {"count": 1, "credits": 100}
    assert usage["rows"][0]["category"] == "cadastral"
    # another key of the same tenant does not see it
    _, other_secret = new_key(market.owner)
    assert api(stack, other_secret, "GET", f"/v1/consultas/{consulta['id']}").status_code == 404
    assert api(stack, other_secret, "GET", "/v1/consultas").json()["items"] == []


def test_missing_invalid_and_authorization_only_are_401(stack, market):
    for secret, headers in ((None, {}), ("bt_live_" + "x" * 43, {}), ("nope", {}),
                            (None, {"authorization": "Bearer bt_live_" + "x" * 43})):
        response = api(stack, secret, "GET", "/v1/balance", headers=headers)
        assert response.status_code == 401, response.text
        assert response.json()["error"]["code"] in ("api_key_missing", "api_key_invalid")


def test_a_revoked_key_is_refused_at_once_and_a_rotated_secret_stops_working(stack, market):
    key_id, secret = new_key(market.owner)
    assert api(stack, secret, "GET", "/v1/balance").status_code == 200
    rotated = market.owner.call(FN, "POST", f"/keys/{key_id}/rotate").body["secret"]
    assert api(stack, secret, "GET", "/v1/balance").status_code == 401
    assert api(stack, rotated, "GET", "/v1/balance").status_code == 200
    assert market.owner.call(FN, "DELETE", f"/keys/{key_id}").status == 200
    response = api(stack, rotated, "POST", "/v1/consultas", json=BODY)
    assert response.status_code == 401 and response.json()["error"]["code"] == "api_key_revoked"


def test_expired_key_is_401(stack, market):
    _, secret = new_key(market.owner, expires_at=(datetime.now(UTC) + timedelta(seconds=3)).isoformat())
    time.sleep(3.5)
    response = api(stack, secret, "GET", "/v1/balance")
    assert response.status_code == 401 and response.json()["error"]["code"] == "api_key_expired"


def test_scope_and_ip_refusals_are_403_and_charge_nothing(stack, market):
    _, secret = new_key(market.owner)
    before = api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"]
    response = api(stack, secret, "POST", "/v1/consultas", json={**BODY, "category": "veicular", "plate": "ABC1234"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "scope_missing"
    assert api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"] == before
    _, fenced = new_key(market.owner, ip_allowlist=["10.0.0.0/8"])
    response = api(stack, fenced, "GET", "/v1/balance")
    assert response.status_code == 403 and response.json()["error"]["code"] == "ip_not_allowed"
    _, local = new_key(market.owner, ip_allowlist=["127.0.0.1", "::1"])
    assert api(stack, local, "GET", "/v1/balance").status_code == 200


def test_bad_consulta_body_is_the_flows_4xx(stack, market):
    _, secret = new_key(market.owner)
    response = api(stack, secret, "POST", "/v1/consultas", json={**BODY, "legal_basis": None})
    assert response.status_code == 400 and response.json()["error"]["details"]  # null for a string: wrong type
    response = api(stack, secret, "POST", "/v1/consultas", json={**BODY, "legal_basis": "because"})
    assert response.status_code == 422 and response.json()["error"]["details"]


def _wait_for_a_fresh_minute() -> None:
    second = datetime.now(UTC).second
    if second > 30:  # start the burst with at least 30 s left in the minute window
        time.sleep(61 - second)


def _burst_in_one_minute(stack, owner, requests: int, limit: int, body: dict) -> list:
    """``requests`` concurrent consultas on a fresh key limited to ``limit``/min, all inside one UTC minute
    (a burst that still crossed the boundary on a very slow machine is run again on another fresh key)."""
    for _attempt in range(3):
        _, secret = new_key(owner, rate_limit_per_minute=limit)
        _wait_for_a_fresh_minute()
        minute = int(time.time() // 60)
        with ThreadPoolExecutor(max_workers=requests) as pool:
            responses = list(pool.map(lambda _: api(stack, secret, "POST", "/v1/consultas", json=body),
                                      range(requests)))
        if int(time.time() // 60) == minute:
            return responses
    raise AssertionError("no burst fit in one minute")


@pytest.mark.slow  # waits for a minute window with 30 s left (up to 30 s)
def test_40_concurrent_requests_on_12_per_minute_let_exactly_12_through(stack, market):
    # 40 on 12/min proves exactness under concurrency as 100 on 30 did; 100 concurrent executions in source
    # mode on two loaded cores passed the function's 30 s timeout (500 "Execution timed out.").
    invalid = {**BODY, "purpose": ""}  # reaches the consulta flow, which refuses it (422): nothing is charged
    responses = _burst_in_one_minute(stack, market.owner, 40, 12, invalid)
    statuses = [r.status_code for r in responses]
    assert statuses.count(422) == 12, sorted(statuses)
    assert statuses.count(429) == 28, sorted(statuses)
    refused = next(r for r in responses if r.status_code == 429)
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-remaining"] == "0" and refused.headers["ratelimit-limit"] == "12"
    assert refused.json()["error"]["code"] == "rate_limited"


def test_daily_limit_is_enforced(stack, market):
    _, secret = new_key(market.owner, rate_limit_per_day=2)
    assert [api(stack, secret, "GET", "/v1/balance").status_code for _ in range(3)] == [200, 200, 429]
