"""CORE-only plugin routes (issue 9, finding 8): whoever executes a plugin — a guest on a payment plugin
(``execute: ["any"]`` for its webhooks), a signed-in member, even a caller with an API key — gets 401
``core_only`` on ``/install``, ``/enable``, ``/disable``, ``/execute`` and ``/events`` unless the call
carries CORE's token; ``/manifest`` stays public. Nothing the refused calls asked for happens."""

from __future__ import annotations

import json

import pytest
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from bigtech.plugins import core_calls
from tests.conftest import make_client
from tests.support.actors import create_tenant, platform_admin, tenant_id_for

CORE_ONLY = ("/install", "/enable", "/disable", "/execute", "/events")
BODIES = {
    "/install": {},
    "/enable": {"tenant_id": "victim-tenant", "config": {}},
    "/disable": {"tenant_id": "victim-tenant", "config": {}},
    "/execute": {"tenant_id": "victim-tenant", "request_id": "r1",
                 "input": {"kind": "charge", "order": {"id": "o1", "tenant_id": "victim-tenant", "package_id": "p1",
                                                        "credits": 100, "amount_cents": 1000},
                           "method": "pix", "payer": {"user_id": "u1", "name": "X", "email": "x@example.com"}},
                 "config": {}},
    "/events": {"id": "e1", "type": "tenant.created", "tenant_id": "victim-tenant", "data": {}},
}


def guest_client(stack) -> Client:
    return Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)


def execute(client: Client, function_id: str, path: str, body: dict | None, headers: dict | None = None):
    raw = "" if body is None else json.dumps(body)
    execution = Functions(client).create_execution(
        function_id, body=raw, xasync=False, path=path,
        method=ExecutionMethod.GET if path == "/manifest" else ExecutionMethod.POST,
        headers={"content-type": "application/json", **(headers or {})})
    return int(execution.responsestatuscode), json.loads(execution.responsebody or "null")


@pytest.fixture(scope="module")
def member_jwt(stack):
    admin = platform_admin(stack)
    _tenant_id, owner = create_tenant(stack, admin, tenant_id_for("co"))
    return owner.jwt


@pytest.mark.parametrize("path", CORE_ONLY)
def test_a_guest_cannot_reach_core_only_routes_of_a_payment_plugin(stack, path):
    status, body = execute(guest_client(stack), "pagamento-sandbox", path, BODIES[path])
    assert status == 401 and body["error"]["code"] == "core_only", body


@pytest.mark.parametrize("path", CORE_ONLY)
def test_a_signed_in_member_cannot_either(stack, member_jwt, path):
    status, body = execute(make_client(stack, jwt=member_jwt), "pagamento-sandbox", path, BODIES[path])
    assert status == 401 and body["error"]["code"] == "core_only", body


@pytest.mark.parametrize("function_id", ["fonte-sandbox", "consulta-cadastral", "pagamento-sandbox"])
@pytest.mark.parametrize("path", CORE_ONLY)
def test_an_api_key_without_cores_token_is_refused_whatever_the_execute_roles(client, function_id, path):
    status, body = execute(client, function_id, path, BODIES[path])
    assert status == 401 and body["error"]["code"] == "core_only", body


def test_guests_cannot_execute_a_fonte_at_all(stack):
    with pytest.raises(AppwriteException) as error:
        execute(guest_client(stack), "fonte-sandbox", "/execute", BODIES["/execute"])
    assert error.value.code == 401


def test_a_token_for_one_call_does_not_open_another(client):
    body = json.dumps(BODIES["/disable"])
    token = core_calls.mint("pagamento-sandbox", "POST", "/disable", body)
    for path in ("/enable", "/install"):
        status, answer = execute(client, "pagamento-sandbox", path, BODIES["/disable"], {core_calls.HEADER: token})
        assert status == 401, answer
    status, answer = execute(client, "fonte-sandbox", "/disable", BODIES["/disable"], {core_calls.HEADER: token})
    assert status == 401, answer


def test_the_manifest_and_the_webhook_stay_public(stack):
    status, body = execute(guest_client(stack), "pagamento-sandbox", "/manifest", None)
    assert status == 200 and body["id"] == "pagamento-sandbox"
    status, body = execute(guest_client(stack), "pagamento-sandbox", "/webhook/no-such-tenant", {"id": "x"})
    assert status == 401 and body["error"]["code"] != "core_only"  # refused by the webhook's own check


def test_core_still_reaches_plugins_with_its_token(client):
    body = {"tenant_id": "t-core", "request_id": "r-core", "input": {"query": "cpf", "cpf": "52998224725"},
            "config": {}}
    raw = json.dumps(body)
    status, answer = execute(client, "fonte-sandbox", "/execute", body,
                             {core_calls.HEADER: core_calls.mint("fonte-sandbox", "POST", "/execute", raw)})
    assert status == 200 and answer["status"] == "ok", answer
