"""Async consultas: 202 with an id, then a callback signed per Standard Webhooks with the key's webhook
secret (the ``standardwebhooks`` verifier accepts it), retried while the receiver answers 500; callback
URLs pass the outbound guard."""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks.webhooks import Webhook

from tests.mercado.test_atacado_public import ALL_SCOPES, BODY, FN, api
from tests.plugins.receiver import Receiver


class FlakyReceiver(Receiver):
    """Answers the given statuses in turn (then the last one), recording each request's headers too."""

    def __init__(self, statuses: list[int]) -> None:
        super().__init__()
        self.statuses = list(statuses)

    @property
    def status(self) -> int:  # type: ignore[override]
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]

    @status.setter
    def status(self, value: int) -> None:
        pass


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_async_consulta_delivers_a_signed_callback_with_retries(stack, market, monkeypatch):
    created = market.owner.call(FN, "POST", "/keys", {"name": "async", "scopes": ALL_SCOPES})
    secret, webhook_secret = created.body["secret"], created.body["webhook_secret"]
    assert webhook_secret.startswith("whsec_")
    with FlakyReceiver([500, 500, 200]) as receiver:
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", receiver.host_port)
        response = api(stack, secret, "POST", "/v1/consultas", json={**BODY, "callback_url": receiver.url("/hook")})
        assert response.status_code == 202, response.text
        request_id = response.json()["request"]["id"]
        wait_for(lambda: len(receiver.hits) >= 3)
    first, last = receiver.hits[0], receiver.hits[-1]
    assert first["body"] == last["body"]  # the same message, retried
    assert len(receiver.hits) == 3
    payload = json.loads(last["body"])
    assert payload["type"] == "consulta.completed" and payload["data"]["request_id"] == request_id
    consulta = payload["data"]["consulta"]
    assert consulta["cost_credits"] == 100 and consulta["status"] in ("succeeded", "not_found")
    # the consulta is this key's, readable over the API
    assert api(stack, secret, "GET", f"/v1/consultas/{consulta['id']}").status_code == 200


def test_the_signature_verifies(stack, market, monkeypatch):
    created = market.owner.call(FN, "POST", "/keys", {"name": "sig", "scopes": ALL_SCOPES})
    with _HeaderReceiver() as receiver:
        monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", receiver.host_port)
        response = api(stack, created.body["secret"], "POST", "/v1/consultas",
                       json={**BODY, "callback_url": receiver.url("/hook")})
        assert response.status_code == 202, response.text
        wait_for(lambda: receiver.requests)
    body, headers = receiver.requests[0]
    verified = Webhook(created.body["webhook_secret"]).verify(body, headers)
    assert verified["data"]["request_id"] == response.json()["request"]["id"]
    assert headers["webhook-id"] == response.json()["request"]["id"]


def test_a_callback_to_a_private_address_is_refused_up_front(stack, market):
    created = market.owner.call(FN, "POST", "/keys", {"name": "ssrf", "scopes": ALL_SCOPES})
    secret = created.body["secret"]
    before = api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"]
    for url in ("http://169.254.169.254/latest/meta-data", "http://127.0.0.1:1/x", "file:///etc/passwd"):
        response = api(stack, secret, "POST", "/v1/consultas", json={**BODY, "callback_url": url})
        assert response.status_code == 422, (url, response.text)
    bad_body = api(stack, secret, "POST", "/v1/consultas",
                   json={**BODY, "purpose": "", "callback_url": "https://example.com/hook"})
    assert bad_body.status_code == 422
    assert api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"] == before


class _HeaderReceiver:
    """Records raw bodies and headers (what a Standard Webhooks verifier needs)."""

    def __enter__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.requests: list[tuple[bytes, dict[str, str]]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                owner.requests.append((self.rfile.read(length), {k.lower(): v for k, v in self.headers.items()}))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"http://{self.host_port}{path}"

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
