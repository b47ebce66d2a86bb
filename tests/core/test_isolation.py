"""Isolation: for every route of every CORE function, a member of tenant A naming tenant B (through
``x-tenant-id`` or B's ids in the path or cursor) is refused with 403/404 and sees nothing of B."""

from __future__ import annotations

import pytest

from tests.support.actors import CORE_FUNCTIONS, load_router

# GET /openapi.json holds no tenant's data: it is public and names no tenant (tests/openapi/test_served.py)
ROUTES = [(function_id, route) for function_id in CORE_FUNCTIONS for route in load_router(function_id).routes
          if route.action != "openapi.read"]
IDS = [f"{f}:{r.method}:{r.path}" for f, r in ROUTES]
ROLES = ("owner", "admin", "analyst", "viewer")


def b_secrets(world) -> list[str]:
    """Strings that only B's data contains."""
    secrets = [world.b, "Bravo"]
    for actor in world.b_roles.values():
        secrets += [actor.user_id, actor.email]
    return secrets


def path_with_b_ids(world, path: str) -> str:
    return path.replace("{tenant_id}", world.b).replace("{user_id}", world.b_roles["viewer"].user_id)


def body_for(method: str, function_id: str, path: str):
    if method not in {"POST", "PATCH"}:
        return None
    if function_id == "members":
        return {"email": "someone@example.com", "role": "viewer"} if method == "POST" else {"role": "admin"}
    if path == "/settings":
        return {"retention_days": 30}
    if method == "PATCH":
        return {"name": "Hijacked"}
    return {"id": "hijack-1", "name": "X", "owner_email": "x@example.com", "owner_name": "X"}


def assert_sees_nothing_of_b(world, result) -> None:
    for secret in b_secrets(world):
        assert secret not in result.raw, f"{secret!r} leaked: {result.raw[:300]}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("function_id", "route"), ROUTES, ids=IDS)
def test_x_tenant_id_of_another_tenant_is_refused(world, function_id, route, role):
    actor = world.a_roles[role]
    path = path_with_b_ids(world, route.path)
    result = actor.call(function_id, route.method, path, body_for(route.method, function_id, route.path),
                        tenant=world.b)
    if route.action == "me.read":
        assert result.status == 403 and result.error_code == "not_a_member", result
    else:
        assert result.status in (403, 404), result
    assert_sees_nothing_of_b(world, result)


@pytest.mark.parametrize(("function_id", "route"), [(f, r) for f, r in ROUTES if "{" in r.path],
                         ids=[i for i, (f, r) in zip(IDS, ROUTES, strict=True) if "{" in r.path])
def test_b_ids_in_the_path_are_refused_to_a_owner(world, function_id, route):
    actor = world.a_roles["owner"]
    result = actor.call(function_id, route.method, path_with_b_ids(world, route.path),
                        body_for(route.method, function_id, route.path))
    assert result.status in (403, 404), result
    assert_sees_nothing_of_b(world, result)


def test_b_cursor_in_a_list_shows_nothing_of_b(world):
    owner_b = world.b_roles["owner"]
    first = owner_b.call("members", "GET", "/?limit=1")
    assert first.status == 200 and first.body["next_cursor"]
    result = world.a_roles["owner"].call("members", "GET", f"/?limit=5&cursor={first.body['next_cursor']}")
    assert result.status in (403, 404, 422), result
    assert_sees_nothing_of_b(world, result)


def test_b_is_unchanged_after_all_that(world):
    owner_b = world.b_roles["owner"]
    members = owner_b.call("members", "GET", "/?limit=100")
    assert {m["id"] for m in members.body["items"]} == {a.user_id for a in world.b_roles.values()}
    me = owner_b.call("auth", "GET", "/me")
    assert me.body["tenant"] == {"id": world.b, "name": "Bravo", "status": "active"}
    trail = owner_b.call("audit", "GET", "/?limit=100")
    b_people = {a.user_id for a in world.b_roles.values()} | {world.admin.user_id}  # the admin created B
    assert all(entry["actor"] in b_people for entry in trail.body["items"])
    assert owner_b.call("audit", "GET", "/verify").body["ok"] is True
