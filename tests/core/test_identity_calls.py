"""How many Appwrite calls identity resolution costs, counted on the local stack's dispatcher."""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager

import pytest

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
