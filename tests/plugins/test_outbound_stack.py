"""SSRF attacks on the local stack (issue 9, finding 4), as a tenant admin and a guest would try them.

Config time: a fonte ``base_url`` or Pagar.me ``jwks_url`` on a private target is a 422 naming the
field, and nothing is stored. Fetch time: a config that reaches a fonte anyway (CORE passes it on; an
old row) fails closed — no request reaches the local listener, the token never leaves, nothing is
billed; the same when DNS says the provider's own host is 127.0.0.1. A guest's forged Pagar.me
webhook with a loopback JWKS URL fetches nothing.
"""

from __future__ import annotations

import base64
import json
import os
import socket

import pytest
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions

from bigtech import secrets_box
from bigtech.payments.jwks import JwksCache, verify_rs256
from bigtech.plugins import core_calls
from tests.conftest import make_client
from tests.payments.stack_support import guest_call
from tests.support.actors import create_tenant, platform_admin, tenant_id_for

from .receiver import Receiver

os.environ.setdefault(secrets_box.KEY_VARIABLE, base64.b64encode(b"k" * 32).decode())

TOKEN = "tok-ssrf-canary-0000-never-leaves"
CNPJ = "11222333000181"
REAL_GETADDRINFO = socket.getaddrinfo


@pytest.fixture(autouse=True)
def production_rules(monkeypatch):
    monkeypatch.setenv("BIGTECH_ENV", "production")  # https only (an unset variable means the same)
    monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", "")


@pytest.fixture(scope="module")
def owner(stack):
    _, tenant_owner = create_tenant(stack, platform_admin(stack), tenant_id_for("ssrf"))
    return tenant_owner


def plugin_state(owner, plugin_id):
    return next((p for p in owner.call("plugins", "GET", "/").body["items"] if p["id"] == plugin_id), None)


@pytest.mark.parametrize("base_url", [
    "https://127.0.0.1/api/v2/consultas/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/api/",
    "https://[::ffff:127.0.0.1]/api/",
    "https://localhost/api/",            # a hostname that resolves to loopback
    "https://evil.example.com/api/",     # not Infosimples' host
    "http://api.infosimples.com/api/v2/consultas/",  # plain http outside development
])
def test_a_private_fonte_base_url_is_422_naming_the_field(owner, base_url):
    before = plugin_state(owner, "fonte-infosimples")
    result = owner.call("plugins", "PUT", "/fonte-infosimples",
                        {"enabled": True, "config": {"token": TOKEN, "base_url": base_url}})
    assert result.status == 422, result
    assert result.error_code == "invalid_config"
    assert [d["field"] for d in result.body["error"]["details"]] == ["config.base_url"]
    assert TOKEN not in result.raw
    assert plugin_state(owner, "fonte-infosimples") == before


def test_brasilapi_and_pagarme_urls_are_checked_too(owner):
    bad = owner.call("plugins", "PUT", "/fonte-brasilapi", {"enabled": True,
                                                            "config": {"base_url": "https://10.0.0.7/api/"}})
    assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "config.base_url"
    jwks = owner.call("plugins", "PUT", "/pagamento-pagarme", {"enabled": True, "config": {
        "secret_key": "sk_test_0000000000000000", "jwks_url": "https://127.0.0.1:8443/.well-known/jwks.json"}})
    assert jwks.status == 422 and jwks.body["error"]["details"][0]["field"] == "config.jwks_url"
    good = owner.call("plugins", "PUT", "/fonte-brasilapi", {"enabled": True,
                                                             "config": {"base_url": "https://brasilapi.com.br/api/"}})
    assert good.status == 200, good


def run_consulta(stack, fontes):
    raw = json.dumps({"tenant_id": "t-ssrf", "request_id": "req-ssrf", "input": {"document": CNPJ}, "fontes": fontes})
    execution = Functions(make_client(stack)).create_execution(  # as CORE calls a plugin: with its token
        "consulta-cadastral", body=raw, path="/execute", method=ExecutionMethod.POST,
        headers={"content-type": "application/json",
                 **core_calls.headers("consulta-cadastral", "POST", "/execute", raw)})
    return execution, json.loads(execution.responsebody)


def test_fetch_time_a_loopback_base_url_reaches_nothing(stack):
    with Receiver() as listener:
        execution, body = run_consulta(stack, [
            {"id": "fonte-infosimples", "config": {"token": TOKEN, "base_url": listener.url("/api/")}},
            {"id": "fonte-sandbox"}])
    assert listener.hits == []
    first = body["sources"][0]
    assert (first["plugin"], first["status"], first["billable"]) == ("fonte-infosimples", "failed", False)
    assert body["status"] == "ok" and body["sources"][1]["plugin"] == "fonte-sandbox"
    assert TOKEN not in execution.responsebody


def test_fetch_time_dns_pointing_the_provider_at_loopback_reaches_nothing(stack, monkeypatch):
    """DNS rebinding / poisoning: api.infosimples.com itself resolves to 127.0.0.1."""
    with Receiver() as listener:
        def getaddrinfo(host, port, *args, **kwargs):
            if host == "api.infosimples.com":
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
            return REAL_GETADDRINFO(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        base_url = f"https://api.infosimples.com:{listener.port}/api/v2/consultas/"
        execution, body = run_consulta(stack, [{"id": "fonte-infosimples",
                                                "config": {"token": TOKEN, "base_url": base_url}}])
    assert listener.hits == []
    source = body["sources"][0]
    assert source["status"] == "failed" and source["billable"] is False
    assert source["error"]["code"] == "outbound_refused"
    assert body["status"] in ("failed", "retryable") and TOKEN not in execution.responsebody


def test_forged_pagarme_webhook_with_a_loopback_jwks_fetches_nothing():
    """The guest controls when the JWKS is fetched (any signature header with a new kid); a stored
    loopback JWKS URL must not be fetched."""
    with Receiver(body={"keys": []}) as listener:
        cache = JwksCache()  # the real fetch: through the outbound guard
        forged = "alg=RS256; kid=attacker-kid; signature=AAAA"
        for url in (listener.url("/.well-known/jwks.json"), "https://169.254.169.254/jwks.json",
                    f"https://localhost:{listener.port}/jwks.json"):
            assert verify_rs256(forged, b'{"type": "order.paid"}', url, cache) is False
            assert verify_rs256(None, b"{}", url, cache) is False  # unsigned
        assert listener.hits == [] and cache.fetches == 0


@pytest.mark.slow
def test_guest_webhook_cannot_make_pagarme_fetch_a_stored_loopback_jwks(stack, monkeypatch):
    """A jwks_url accepted while an operator exception existed (or stored before the guard) stays
    stored; once the exception is gone, a guest's forged or unsigned webhook fetches nothing."""
    admin = platform_admin(stack)
    tenant_id, tenant_owner = create_tenant(stack, admin, tenant_id_for("jwk"))
    assert admin.call("plugins", "POST", "/catalog/sync").status == 200
    with Receiver(body={"keys": []}) as listener:
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", listener.host_port)
        stored = tenant_owner.call("plugins", "PUT", "/pagamento-pagarme", {"enabled": True, "config": {
            "secret_key": "sk_test_0000000000000000", "jwks_url": listener.url("/.well-known/jwks.json")}})
        assert stored.status == 200, stored
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", "")
        body = json.dumps({"id": "hook_forged", "type": "order.paid", "data": {"code": "o-1", "amount": 100}})
        for header in ("alg=RS256; kid=attacker-kid; signature=AAAA", ""):
            answer = guest_call(stack, "pagamento-pagarme", f"/webhook/{tenant_id}", body,
                                {"x-webhook-asymmetric-signature": header})
            assert answer.status == 401, answer
        assert listener.hits == []
