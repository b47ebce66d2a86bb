"""How many Appwrite calls identity resolution costs, counted on the local stack's dispatcher."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest
from appwrite.services.users import Users

from tests.conftest import make_client

IDENTITY_CALLS = {
    "memberships": re.compile(r"^/v1/users/[^/]+/memberships$"),
    "user": re.compile(r"^/v1/users/[^/]+$"),
    "tenant": re.compile(r"^/v1/tablesdb/core/tables/tenants/rows/[^/]+$"),
}


@contextmanager
def counting(stack):
    seen: list[str] = []
    lock = threading.Lock()

    def observe(request, route, response):
        if request.method == "GET" and str(request.headers.get("x-appwrite-key", "")).startswith("ephemeral_"):
            with lock:
                seen.append(request.path)

    stack.dispatcher.observers.append(observe)
    try:
        yield seen
    finally:
        stack.dispatcher.observers.remove(observe)


def identity_calls(paths: list[str]) -> dict[str, int]:
    return {name: sum(1 for p in paths if pattern.match(p)) for name, pattern in IDENTITY_CALLS.items()}


@pytest.mark.parametrize(("who", "function_id", "method", "path", "expected"), [
    # /me itself needs user + tenant, and lists pending invitations (a second memberships call)
    ("viewer", "auth", "GET", "/me", {"memberships": 2, "user": 1, "tenant": 1}),
    ("owner", "members", "GET", "/", {"memberships": 1, "user": 0, "tenant": 0}),
    ("owner", "audit", "GET", "/verify", {"memberships": 1, "user": 0, "tenant": 0}),
    ("admin", "members", "PATCH", "/{viewer}", {"memberships": 1, "user": 0, "tenant": 1}),
    ("platform", "members", "GET", "/", {"memberships": 1, "user": 1, "tenant": 1}),
    ("platform", "tenants", "GET", "/", {"memberships": 0, "user": 1, "tenant": 0}),
])
def test_identity_call_budget(stack, world, who, function_id, method, path, expected):
    actor = world.admin if who == "platform" else world.a_roles[who]
    body = {"role": "viewer"} if method == "PATCH" else None
    with counting(stack) as seen:
        result = actor.call(function_id, method, path.replace("{viewer}", world.a_roles["viewer"].user_id), body,
                            tenant=world.a)
    assert result.status == 200, result
    assert identity_calls(seen) == expected


def test_audit_entries_name_the_actor_without_another_call(stack, world):
    """The actor's display name comes from the membership list identity already read: an audited change
    (and a consulta, the hot path) costs the same identity calls, and its entry names the actor."""
    admin, analyst = world.a_roles["admin"], world.a_roles["analyst"]
    names = {who.user_id: Users(make_client(stack)).get(who.user_id).name for who in (admin, analyst)}
    assert all(names.values())
    viewer = f"/{world.a_roles['viewer'].user_id}"
    with counting(stack) as seen:
        changed = admin.call("members", "PATCH", viewer, {"role": "analyst"}, tenant=world.a)
    assert changed.status == 200 and identity_calls(seen) == {"memberships": 1, "user": 0, "tenant": 1}
    assert admin.call("members", "PATCH", viewer, {"role": "viewer"}, tenant=world.a).status == 200
    assert owner_grants(world, analyst, 200)
    with counting(stack) as seen:
        ran = analyst.call("consultas", "POST", "/", {"category": "cadastral", "document": "52998224725",
                                                      "purpose": "kyc", "legal_basis": "art7_V"}, tenant=world.a)
    assert ran.status == 201 and identity_calls(seen) == {"memberships": 1, "user": 0, "tenant": 1}
    trail = world.a_roles["owner"].call("audit", "GET", "/?limit=50", tenant=world.a).body["items"]
    by_id = {entry["id"]: entry for entry in trail}
    for audit_id in (ran.body["consulta"]["audit_id"], changed.body["audit_id"]):
        entry = by_id[audit_id]
        assert entry["actor_name"] == names[entry["actor"]]


def owner_grants(world, who, credits):
    answer = world.a_roles["owner"].call("billing", "POST", "/grants", {"user_id": who.user_id, "credits": credits,
                                                                         "reason": "tests"}, tenant=world.a)
    return answer.status == 201
