"""Fuzz pass (issue 9, "Done when"): every route of every function, listed from the routers themselves
(a new route is covered without touching this file), driven through the executions API with hostile
bodies, headers, paths and query strings. The only assertion: no 5xx, ever, and the execution
completes (a crash would mark it ``failed``).

Callers are chosen to get past authentication, so the hostile input reaches the parsing and handler
code: a platform admin acting in a fuzz tenant (every CORE action is allowed to them; the tenant's
rate limit is raised so the fuzzer is not simply refused with 429), CORE itself for plugin routes (the
dev key plus a CORE token for the exact request), the dev key for key-only functions (the relay) and a
guest for the public routes (health, payment webhooks and simulation).

Bounded: a fixed corpus (each hostile case on each route, rotated so every case meets every kind of
route) plus a few dozen ``hypothesis`` examples, in parallel on 4 threads; about a minute on 2 cores.
"""

from __future__ import annotations

import importlib
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest
from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bigtech.plugins import core_calls
from tests.conftest import make_client
from tests.support.actors import REPO_ROOT, create_tenant, platform_admin, tenant_id_for

APPWRITE_JSON = json.loads((REPO_ROOT / "appwrite.json").read_text())
PARAM = "{"


# -- the routes, from the routers ---------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    function_id: str
    method: str
    path: str  # the route template, e.g. /orders/{order_id}
    public: bool  # executable by guests (execute: any)
    plugin: bool
    key_only: bool  # execute: [] — only keys may run it (plugins, the relay)


def _router_of(function_id: str, folder: str) -> Any:
    from local_appwrite.runner.loader import bind_package, forget

    package = f"_fuzz_{function_id.replace('-', '_')}"
    forget(package)
    bind_package(package, REPO_ROOT / folder)
    module = importlib.import_module(f"{package}.src.main")
    return getattr(module, "router", None) or getattr(getattr(module, "main", None), "router", None)


def all_targets() -> list[Target]:
    targets = []
    for fn in APPWRITE_JSON["functions"]:
        function_id, public = fn["$id"], "any" in (fn.get("execute") or [])
        plugin = fn["path"].startswith("plugins/")
        router = _router_of(function_id, fn["path"])
        routes = [("POST", "/")] if router is None else [(r.method, r.path) for r in router.routes]
        key_only = not fn.get("execute")
        targets += [Target(function_id, method, path, public, plugin, key_only) for method, path in routes]
    return targets


TARGETS = all_targets()


def test_every_function_is_fuzzed():
    assert {t.function_id for t in TARGETS} == {fn["$id"] for fn in APPWRITE_JSON["functions"]}
    assert len(TARGETS) >= 60


# -- the hostile corpus ---------------------------------------------------------------------------------

DEEP = 100_000
BODIES: dict[str, str] = {
    "deep array": "[" * DEEP + "]" * DEEP,
    "deep object": '{"a":' * 40_000 + "1" + "}" * 40_000,
    "unbalanced": "[" * DEEP,
    "huge": json.dumps({"data": "x" * 300_000}),
    "surrogate": '{"id": "\\ud800", "credits": 1, "email": "\\udfff@x.io"}',
    "nan": '{"credits": NaN, "amount_cents": Infinity}',
    "big int": '{"credits": ' + "9" * 4000 + "}",
    "wrong types": json.dumps({"credits": "100", "user_id": ["a"], "role": {"x": 1}, "enabled": "yes",
                               "config": "nope", "tenant_id": 7, "input": [], "order_id": None}),
    "not an object": json.dumps(["a", 1, None, True]),
    "scalar": "42",
    "empty object": "{}",
    "garbage": "\x00\x01{]]}}",
    "unicode": json.dumps({"name": "ñ☃\U0001F600\u202e\u0000", "email": "é@ü.com", "id": "../../etc/passwd"}),
    "envelope": json.dumps({"id": "e" * 500, "type": "payment.confirmed", "tenant_id": "../x", "data": {"a": [[[]]]}}),
}
PATH_IDS = ["..", "%2e%2e%2f%2e%2e", "a" * 300, "ñ☃", "0", "-1", "x;drop table", "$id", "<script>", "%00",
            "tenant_x", "fonte-sandbox"]
QUERIES = ["", "limit=-1&cursor=..%2F..", "limit=99999999999999999999999", "from=%ED%A0%80&to=yesterday",
           "&".join(f"k{i}=v" for i in range(150)), "q=" + "z" * 10_000, "status[]=a&status[x]=b",
           "limit=1&limit=2&user_id=%00", "queries[0]=" + quote('{"method":"equal"}')]
HEADERS: list[dict[str, str]] = [
    {},
    {"x-tenant-id": "../../other"},
    {"x-tenant-id": "a" * 5000},
    {"idempotency-key": "k" * 10_000},
    {"idempotency-key": "ñ☃ key"},
    {"content-type": "text/plain; charset=latin-1"},
    {"x-api-key": "bigtech_" + "f" * 64},
    {"x-appwrite-user-id": "forged-user"},
    {"asaas-access-token": "forged", "x-bigtech-signature": "t=1,v1=00"},
]


def concrete(path: str, path_id: str) -> str:
    return "/".join(quote(path_id, safe="%") if part.startswith(PARAM) else part for part in path.split("/"))


# -- callers ----------------------------------------------------------------------------------------------

@dataclass
class Fuzzer:
    stack: Any
    admin_jwt: str
    tenant_id: str
    seen: list[tuple[int, str]] = field(default_factory=list)

    def client_for(self, target: Target) -> Client:
        if target.plugin or target.key_only:
            return make_client(self.stack)  # the dev key, as CORE's dynamic key would be
        if target.public and target.function_id != "billing":
            return Client().set_endpoint(self.stack.endpoint).set_project(self.stack.settings.project_id)
        return make_client(self.stack, jwt=self.admin_jwt)

    def run(self, target: Target, path: str, body: str, headers: dict[str, str]) -> tuple[int, str]:
        sent = {"content-type": "application/json", "x-tenant-id": self.tenant_id, **headers}
        if target.plugin and not (target.public and "/webhook" in target.path):
            route_path = path.split("?")[0]
            sent[core_calls.HEADER] = core_calls.mint(target.function_id, target.method, route_path, body)
        try:
            execution = Functions(self.client_for(target)).create_execution(
                target.function_id, body=body, xasync=False, path=path, method=ExecutionMethod(target.method),
                headers=sent)
        except AppwriteException as error:  # the stack itself refused the request: must be a 4xx
            assert error.code is not None and 400 <= error.code < 500 and error.code != 408, (target, path, error)
            return error.code, "stack"
        status = int(execution.responsestatuscode or 0)
        outcome = getattr(execution.status, "value", execution.status)
        assert status < 500 and outcome == "completed", (
            f"{target.function_id} {target.method} {path[:120]} headers={list(headers)} body={body[:80]!r} → "
            f"{status} {outcome}: {(execution.responsebody or '')[:300]} {(execution.errors or '')[-500:]}")
        return status, "function"


@pytest.fixture(scope="module")
def fuzzer(stack):
    admin = platform_admin(stack)
    tenant_id, _owner = create_tenant(stack, admin, tenant_id_for("fz"))
    raised = admin.call("tenants", "PATCH", f"/{tenant_id}", {"settings": {"rate_limit_per_minute": 100_000}})
    assert raised.status == 200, raised
    return Fuzzer(stack, admin.jwt, tenant_id)


def corpus() -> list[tuple[Target, str, str, dict[str, str]]]:
    """Every route meets several hostile cases; rotation makes every case meet every kind of route."""
    cases = []
    body_names = itertools.cycle(sorted(BODIES))
    ids, queries, headers = itertools.cycle(PATH_IDS), itertools.cycle(QUERIES), itertools.cycle(HEADERS)
    for target in TARGETS:
        has_body = target.method in ("POST", "PUT", "PATCH")
        for _ in range(4 if has_body else 3):
            path = concrete(target.path, next(ids)) if PARAM in target.path else target.path
            query = next(queries)
            body = BODIES[next(body_names)] if has_body else ""
            cases.append((target, path + (f"?{query}" if query else ""), body, next(headers)))
    return cases


@pytest.mark.slow
def test_the_hostile_corpus_never_gets_a_5xx(fuzzer):
    cases = corpus()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(lambda case: fuzzer.run(*case), cases))
    by_source = {source for _status, source in outcomes}
    assert "function" in by_source  # the fuzzer reached the functions, not only the stack's checks
    assert len(outcomes) == len(cases)


# -- generated input ----------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
segments = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/?#"),
                   min_size=1, max_size=40)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(index=st.integers(min_value=0, max_value=len(TARGETS) - 1), body=json_values, segment=segments,
       query=st.dictionaries(st.text(max_size=10), st.text(max_size=30), max_size=5),
       header=st.dictionaries(st.sampled_from(["x-tenant-id", "idempotency-key", "x-custom", "x-api-key"]),
                              st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
                              max_size=2))
@pytest.mark.slow
def test_generated_input_never_gets_a_5xx(fuzzer, index, body, segment, query, header):
    target = TARGETS[index]
    path = concrete(target.path, segment) if PARAM in target.path else target.path
    encoded = "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items())
    raw = json.dumps(body) if target.method in ("POST", "PUT", "PATCH") else ""
    fuzzer.run(target, path + (f"?{encoded}" if encoded else ""), raw, header)
