"""Every response the local stack gave during this test session honours Appwrite's official spec.

The stack's responses are recorded by every test (see ``recorder.py``); this module runs last,
first drives a scenario through the SDK that touches every implemented route, then validates all
recorded samples against ``appwrite-1.8.1-server.openapi.json``.
"""

from __future__ import annotations

import pytest

from tests.contract.openapi import ContractValidator
from tests.contract.recorder import RECORDER
from tests.contract.scenario import exercise_every_route

pytestmark = pytest.mark.contract

LOCAL_ONLY_PREFIX = "/local/"
# Routes of Appwrite's *console* spec (not the server spec) that the Appwrite CLI calls: `appwrite client`
# probes the version, `push functions` lists proxy rules to print a function's domain.
CONSOLE_ROUTES = {("GET", "/health/version"), ("GET", "/proxy/rules")}


def _outside_server_spec(method: str, route: str) -> bool:
    return route.startswith(LOCAL_ONLY_PREFIX) or (method, route) in CONSOLE_ROUTES


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator()


def test_every_route_exists_in_the_spec(stack, validator):
    missing = [
        f"{route.method} {route.pattern}"
        for route in stack.router.routes
        if not _outside_server_spec(route.method, route.pattern)
        and validator.operation(route.method, route.pattern) is None
    ]
    assert missing == []


def test_every_route_is_exercised(stack):
    exercise_every_route(stack)
    seen = RECORDER.routes_seen(successful=True)
    never = [
        f"{route.method} {route.pattern}"
        for route in stack.router.routes
        if (route.method, route.pattern) not in seen and not route.pattern.startswith(LOCAL_ONLY_PREFIX)
    ]
    assert never == [], "routes never answered successfully in the test session"


def test_every_recorded_response_matches_the_spec(validator):
    problems = []
    for sample in RECORDER.all():
        if sample.route is None or _outside_server_spec(sample.method, sample.route):
            continue
        problems += validator.check(sample.method, sample.path, sample.status, sample.body)
    assert problems == []


def test_every_function_response_follows_the_style_guide():
    """docs/api-style.md: every function answer the session produced (wrapping, ids, lists, errors, money)."""
    assert RECORDER.executions_checked > 0
    assert list(RECORDER.style) == [], "answers against docs/api-style.md:\n" + "\n".join(RECORDER.style)
