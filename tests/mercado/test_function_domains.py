"""The local stack serves function domains as Appwrite 1.9 does (``router()`` in general.php): routing by
the Host header, method/path/query/headers/body passed on, the caller's ``x-appwrite-*`` headers replaced,
only functions executable by ``any``."""

from __future__ import annotations

import httpx


def domain(stack, function_id, method="GET", path="/", **kwargs):
    headers = {"host": f"{function_id}.functions.localhost:{stack.settings.port}", **kwargs.pop("headers", {})}
    return httpx.request(method, stack.endpoint.removesuffix("/v1") + path, headers=headers, timeout=60, **kwargs)


def test_a_public_function_answers_on_its_domain(stack):
    response = domain(stack, "health", "GET", "/")
    assert response.status_code == 200, response.text
    assert response.headers["x-appwrite-execution-id"]


def test_functions_not_executable_by_any_are_refused(stack):
    response = domain(stack, "consultas", "POST", "/", json={"category": "cadastral"})
    assert response.status_code == 401
    assert response.json()["type"] == "function_execute_permission_missing"


def test_unknown_function_is_404(stack):
    response = domain(stack, "no-such-function", "GET", "/")
    assert response.status_code == 404 and response.json()["type"] == "function_not_found"


def test_the_callers_appwrite_headers_are_replaced(stack, market):
    # a caller claiming to be the owner gets no further than an anonymous one
    response = domain(stack, "mercado-atacado", "GET", "/keys",
                      headers={"x-appwrite-user-id": market.owner.user_id, "x-tenant-id": market.tenant})
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"


def test_method_path_query_and_body_reach_the_function(stack):
    # the plugin protocol's /manifest is public; an unknown path is the function's own 404, a wrong method its 405
    assert domain(stack, "mercado-atacado", "GET", "/manifest?x=1").json()["id"] == "mercado-atacado"
    assert domain(stack, "mercado-atacado", "GET", "/nowhere").json()["error"]["code"] == "route_not_found"
    assert domain(stack, "mercado-atacado", "DELETE", "/manifest").status_code == 405
