"""Rate limits that hold (issue 9, finding 10): ``rate_limit_per_minute`` (platform default, tenant
override) is enforced per user on consulta and mutating routes, counted with atomic increments in
fixed one-minute windows, so 40 concurrent calls on a limit of 12 let exactly 12 through; refusals
are 429 with ``Retry-After`` and ``RateLimit-*`` headers and change nothing."""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bigtech import ratelimit
from bigtech.platform_settings import DEFAULT_RATE_LIMIT_PER_MINUTE
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for


def wait_for_a_fresh_window(needed_seconds: float = 35.0) -> None:
    """The assertions count one window: start where at least ``needed_seconds`` of it remain."""
    left = 60 - time.time() % 60
    if left < needed_seconds:
        time.sleep(left + 0.2)


def limited_tenant(stack, admin, limit: int) -> tuple[str, object]:
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rl"))
    patched = admin.call("tenants", "PATCH", f"/{tenant_id}", {"settings": {"rate_limit_per_minute": limit}})
    assert patched.status == 200, patched
    return tenant_id, owner


@pytest.fixture(scope="module")
def admin(stack):
    return platform_admin(stack)


@pytest.mark.slow
def test_40_concurrent_consulta_calls_on_a_limit_of_12_let_exactly_12_through(stack, admin):
    _tenant_id, owner = limited_tenant(stack, admin, 12)
    viewer = add_member(owner, "viewer")
    wait_for_a_fresh_window()
    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(lambda _: viewer.call("consultas", "GET", "/?limit=1"), range(40)))
    assert Counter(r.status for r in results) == {200: 12, 429: 28}, [r for r in results if r.status >= 500][:2]
    passed = [r for r in results if r.status == 200]
    assert sorted(int(r.headers["ratelimit-remaining"]) for r in passed) == list(range(12))
    for refused in (r for r in results if r.status == 429):
        assert refused.error_code == "rate_limited"
        assert refused.headers["ratelimit-limit"] == "12" and refused.headers["ratelimit-remaining"] == "0"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
    # per user: the owner, in the same tenant and minute, has a window of their own
    own = owner.call("consultas", "GET", "/?limit=1")
    assert own.status == 200 and 7 <= int(own.headers["ratelimit-remaining"]) < 12  # (adding the viewer counted)


@pytest.mark.slow
def test_a_refused_mutation_changes_nothing(stack, admin):
    _tenant_id, owner = limited_tenant(stack, admin, 4)
    wait_for_a_fresh_window()
    analyst = add_member(owner, "analyst")  # the owner's 1st counted call in this window
    grants = [owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 5,
                                                        "reason": f"grant {i}"}) for i in range(4)]
    assert [g.status for g in grants] == [201, 201, 201, 429], grants
    assert analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"] == 15
    ledger = owner.call("billing", "GET", f"/ledger?user_id={analyst.user_id}")
    assert ledger.status == 200  # reads are not counted outside consultas
    assert sum(1 for e in ledger.body["items"] if e["type"] == "grant") == 3


@pytest.mark.slow
def test_without_an_override_the_platform_default_applies(stack, admin):
    _tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rd"))
    answer = owner.call("consultas", "GET", "/")
    assert answer.status == 200
    assert answer.headers["ratelimit-limit"] == str(DEFAULT_RATE_LIMIT_PER_MINUTE)


@pytest.mark.slow
def test_reads_outside_consultas_are_not_counted(stack, admin):
    _tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rr"))
    answer = owner.call("billing", "GET", "/wallet")
    assert answer.status == 200 and "ratelimit-limit" not in answer.headers


# -- the counter itself: one API call per request in the steady state ------------------------------------

class CountingTables:
    """A TablesDB stand-in with Appwrite's increment semantics (bound on the resulting value)."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.calls: Counter[str] = Counter()

    def increment_row_column(self, database_id, table_id, row_id, column, value, max=None):
        from appwrite.exception import AppwriteException

        self.calls["increment"] += 1
        if row_id not in self.rows:
            raise AppwriteException("Row not found", 404, "row_not_found")
        if max is not None and self.rows[row_id] + value > max:
            raise AppwriteException("limit", 400, "column_limit_exceeded")
        self.rows[row_id] += value
        return type("Row", (), {"data": {"count": self.rows[row_id]}})()

    def create_row(self, database_id, table_id, row_id, data):
        self.calls["create"] += 1
        self.rows[row_id] = data["count"]


def test_counting_costs_one_call_per_request_after_the_first_of_the_window():
    tables = CountingTables()
    now = 1_800_000_000.0
    windows = [ratelimit.count(tables, "db", "user-1", 5, now=now + i) for i in range(7)]
    assert [w.allowed for w in windows] == [True] * 5 + [False] * 2
    assert [w.remaining for w in windows] == [4, 3, 2, 1, 0, 0, 0]
    assert tables.calls == {"increment": 7, "create": 1}  # 6 steady-state calls: 1 each
    fresh = ratelimit.count(tables, "db", "user-1", 5, now=now + 60)  # the next minute starts over
    assert fresh.allowed and fresh.count == 1


def test_row_ids_fit_appwrite_for_any_user_id():
    assert len(ratelimit.row_id("u" * 36, 99_999_999)) <= 36
    assert ratelimit.row_id("a", 1) != ratelimit.row_id("b", 1)


@pytest.mark.slow
def test_on_the_stack_a_counted_call_costs_one_rate_limit_call(stack, admin):
    _tenant_id, owner = create_tenant(stack, admin, tenant_id_for("rc"))
    wait_for_a_fresh_window(10)
    assert owner.call("consultas", "GET", "/").status == 200  # the window's first call creates the row
    seen: list[str] = []

    def observe(request, route, response):
        seen.append(f"{request.method} {request.path}")

    stack.dispatcher.observers.append(observe)
    try:
        assert owner.call("consultas", "GET", "/").status == 200
    finally:
        stack.dispatcher.observers.remove(observe)
    counter_calls = [s for s in seen if "/tables/rate_limits/" in s]
    assert len(counter_calls) == 1 and counter_calls[0].startswith("PATCH"), seen
