"""Route × role: every route of every CORE function, called through executions by every kind of caller,
is allowed or refused exactly as the permission matrix says. Plus the meta-test: no route without an
action the matrix knows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from bigtech import permissions
from bigtech.http import Router
from tests.support.actors import (
    CORE_FUNCTIONS,
    REPO_ROOT,
    Actor,
    add_member,
    load_router,
    tenant_id_for,
    unique_suffix,
)

CALLERS = ("owner", "admin", "analyst", "viewer", "platform_admin", "outsider")


@dataclass
class Sample:
    """How to call one route so that it succeeds when allowed: path (with ids filled) and body."""

    path: Callable[[Any, Actor], str]
    body: Callable[[Any, Actor], Any] = lambda world, caller: None


def unprovisioned_tenant(world) -> str:
    """A tenant whose provisioning failed (the admin's retry is allowed on it); its id."""
    from appwrite.services.tables_db import TablesDB

    from tests.conftest import make_client

    tenant_id = tenant_id_for("mp")
    TablesDB(make_client(world.admin.stack)).create_row("core", "tenants", tenant_id, {
        "name": "Matrix retry", "status": "active", "team_id": tenant_id, "database_id": f"tenant_{tenant_id}",
        "provisioning": "failed"})
    return tenant_id


def fresh_member(world) -> str:
    return add_member(world.a_roles["owner"], "viewer").user_id


def fresh_invitation(world) -> str:
    answer = world.a_roles["owner"].call("members", "POST", "/", {"email": f"i-{unique_suffix()}@example.com",
                                                                  "role": "viewer"})
    return answer.body["invitation"]["id"]


SAMPLES: dict[tuple[str, str, str], Sample] = {
    ("auth", "GET", "/me"): Sample(lambda w, c: "/me"),
    ("tenants", "POST", "/"): Sample(lambda w, c: "/", lambda w, c: {
        "id": tenant_id_for("m"), "name": "Matrix", "owner_email": f"m-{unique_suffix()}@example.com",
        "owner_name": "M"}),
    ("tenants", "GET", "/"): Sample(lambda w, c: "/?limit=2"),
    ("tenants", "GET", "/settings"): Sample(lambda w, c: "/settings"),
    ("tenants", "PATCH", "/settings"): Sample(lambda w, c: "/settings", lambda w, c: {"retention_days": 1825}),
    ("tenants", "GET", "/{tenant_id}"): Sample(lambda w, c: f"/{w.a}"),
    ("tenants", "PATCH", "/{tenant_id}"): Sample(lambda w, c: f"/{w.b}", lambda w, c: {"name": "Bravo"}),
    ("tenants", "POST", "/{tenant_id}/suspend"): Sample(lambda w, c: f"/{w.matrix_tenant}/suspend"),
    ("tenants", "POST", "/{tenant_id}/reactivate"): Sample(lambda w, c: f"/{w.matrix_tenant}/reactivate"),
    ("tenants", "POST", "/{tenant_id}/provision"): Sample(lambda w, c: f"/{unprovisioned_tenant(w)}/provision"),
    ("members", "POST", "/"): Sample(lambda w, c: "/", lambda w, c: {
        "email": f"new-{unique_suffix()}@example.com", "role": "viewer"}),
    ("members", "GET", "/"): Sample(lambda w, c: "/"),
    ("members", "GET", "/invitations"): Sample(lambda w, c: "/invitations"),
    ("members", "DELETE", "/invitations/{invitation_id}"): Sample(lambda w, c: f"/invitations/{fresh_invitation(w)}"),
    ("members", "PATCH", "/{user_id}"): Sample(lambda w, c: f"/{fresh_member(w)}", lambda w, c: {"role": "analyst"}),
    ("members", "DELETE", "/{user_id}"): Sample(lambda w, c: f"/{fresh_member(w)}"),
    ("audit", "GET", "/"): Sample(lambda w, c: "/?limit=5"),
    ("audit", "GET", "/verify"): Sample(lambda w, c: "/verify"),
    ("audit", "GET", "/export"): Sample(lambda w, c: "/export"),
    ("audit", "GET", "/platform"): Sample(lambda w, c: "/platform?limit=5"),
    ("audit", "GET", "/platform/verify"): Sample(lambda w, c: "/platform/verify"),
    ("audit", "GET", "/platform/export"): Sample(lambda w, c: "/platform/export"),
    ("audit", "GET", "/checkpoints/export"): Sample(lambda w, c: "/checkpoints/export"),
    ("audit", "GET", "/platform/checkpoints/export"): Sample(lambda w, c: "/platform/checkpoints/export"),
    ("audit", "GET", "/public-key"): Sample(lambda w, c: "/public-key"),
}

# GET /openapi.json is every function's, public and hook-free (tests/openapi/test_served.py covers it)
ROUTES = [(function_id, route) for function_id in CORE_FUNCTIONS for route in load_router(function_id).routes
          if route.action != "openapi.read"]


def expected_allowed(caller: str, action: str) -> bool:
    if caller == "platform_admin":
        return permissions.allowed(permissions.PLATFORM_ADMIN, action)
    if caller == "outsider":
        return permissions.scope_of(action) == "self"
    return permissions.allowed(caller, action)


@pytest.fixture(scope="module")
def matrix_world(world):
    from tests.support.actors import create_tenant

    world.matrix_tenant, _ = create_tenant(world.a_roles["owner"].stack, world.admin, tenant_id_for("mx"))
    return world


def caller_for(world, caller: str) -> Actor:
    if caller == "platform_admin":
        admin = world.admin
        return Actor(admin.stack, admin.user_id, admin.email, admin.jwt, world.a)
    if caller == "outsider":
        return world.outsider
    return world.a_roles[caller]


# Functions with HTTP routes (relay, for one, has event and schedule triggers only and no router).
ALL_FUNCTIONS = sorted(p.parent.parent.name for p in (REPO_ROOT / "functions").glob("*/src/main.py")
                       if "Router(" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("function_id", ALL_FUNCTIONS)
def test_every_route_declares_an_action_the_matrix_knows(function_id):
    """Every function under functions/ (not only these four): a route the matrix does not know is denied
    to everyone, which is never what its author meant."""
    assert permissions.uncovered(load_router(function_id).actions()) == []


def test_every_core_action_is_used_by_a_route():
    used = {route.action for _, route in ROUTES}
    core_families = {action.split(".")[0] for action in used}
    declared = {action for action in permissions.MATRIX if action.split(".")[0] in core_families}
    assert declared <= used, f"matrix actions no route uses: {sorted(declared - used)}"


def test_the_meta_check_catches_a_route_without_a_known_action():
    router = Router()
    router.add("GET", "/x", lambda request: None, action="brand.new")
    assert permissions.uncovered(router.actions()) == ["GET /x (brand.new)"]
    with pytest.raises(TypeError):
        router.add("GET", "/y", lambda request: None)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        router.add("GET", "/z", lambda request: None, action="")


def test_every_route_has_a_sample_call():
    assert {(f, r.method, r.path) for f, r in ROUTES} == set(SAMPLES)


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("function_id", "route"), ROUTES, ids=[f"{f}:{r.method}:{r.path}" for f, r in ROUTES])
def test_route_by_role(matrix_world, function_id, route, caller):
    sample = SAMPLES[(function_id, route.method, route.path)]
    actor = caller_for(matrix_world, caller)
    allowed = expected_allowed(caller, route.action)
    # a refused caller gets the route with real tenant/user ids and a well-formed id for any other
    # parameter (a malformed id is a 404 before any permission check: bigtech.http.limits)
    path = sample.path(matrix_world, actor) if allowed or "{" not in route.path else re.sub(
        r"\{[a-z_]+\}", "0123456789abcdef0123", route.path.replace(
            "{tenant_id}", matrix_world.a).replace("{user_id}", matrix_world.a_roles["viewer"].user_id))
    result = actor.call(function_id, route.method, path, sample.body(matrix_world, actor))
    if allowed:
        assert 200 <= result.status < 300, result
    else:
        assert result.status == 403, result
