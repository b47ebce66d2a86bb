"""The stack's HTTP layer: auth, errors and routing behave like Appwrite's."""

import pytest
import requests
from appwrite.exception import AppwriteException

from tests.conftest import make_client


def test_health_with_key(client):
    assert client.call("get", "/health")["status"] == "pass"


def test_missing_key_is_401_with_appwrite_body(stack):
    response = requests.get(stack.endpoint + "/health", headers={"x-appwrite-project": "bigtech"})
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"message", "code", "type", "version"}
    assert body["type"] == "general_unauthorized_scope"


def test_bad_key_is_401(stack):
    with pytest.raises(AppwriteException) as error:
        make_client(stack, key="standard_wrong").call("get", "/health")
    assert error.value.code == 401
    assert error.value.type == "user_unauthorized"


def test_unknown_route_is_404(stack):
    response = requests.get(stack.endpoint + "/nope")
    assert response.status_code == 404
    assert response.json()["type"] == "general_route_not_found"


def test_cors_preflight_lets_a_browser_frontend_call_the_stack(stack):
    response = requests.options(
        stack.endpoint + "/functions/health/executions",
        headers={"origin": "http://localhost:5173", "access-control-request-headers": "x-appwrite-jwt, content-type"},
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "x-appwrite-jwt" in response.headers["access-control-allow-headers"]
    answer = requests.get(stack.endpoint + "/health", headers={"origin": "http://localhost:5173"})
    assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
