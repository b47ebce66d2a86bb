"""The local stack implements only routes of Appwrite's official spec, and a scenario answers each one.

Every response of the session is validated against the spec at the session's end
(``session_check.py``): this module's scenario makes sure each implemented route is among them.
"""

from __future__ import annotations

import pytest

from tests.contract.openapi import ContractValidator
from tests.contract.recorder import RECORDER, Recorder, Sample
from tests.contract.scenario import exercise_every_route
from tests.contract.session_check import LOCAL_ONLY_PREFIX, outside_server_spec, routes_never_answered, spec_problems

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def validator() -> ContractValidator:
    return ContractValidator()


def test_every_route_exists_in_the_spec(stack, validator):
    missing = [
        f"{route.method} {route.pattern}"
        for route in stack.router.routes
        if not outside_server_spec(route.method, route.pattern)
        and validator.operation(route.method, route.pattern) is None
    ]
    assert missing == []


def test_every_route_is_exercised_by_the_session(stack):
    """The scenario drives what other tests may not; the session's end checks that every route was answered."""
    exercise_every_route(stack)
    required = {(route.method, route.pattern) for route in stack.router.routes
                if not route.pattern.startswith(LOCAL_ONLY_PREFIX)}
    RECORDER.required_routes |= required
    assert RECORDER.routes_seen(successful=True) & required, "the scenario answered no route"



def test_a_response_off_the_spec_fails_the_session_check(validator):
    recorder = Recorder()
    recorder.samples[("GET", "/health", 200)].append(Sample("GET", "/health", "/health", 200, {"status": 5}))
    assert spec_problems(recorder, validator)


def test_a_route_nobody_answered_fails_the_session_check():
    recorder = Recorder()
    recorder.required_routes = {("GET", "/health"), ("GET", "/users")}
    recorder.samples[("GET", "/health", 200)].append(Sample("GET", "/health", "/health", 200, {}))
    assert routes_never_answered(recorder) == ["GET /users"]
