"""Bad input to every CORE route: a 4xx with a field-level message, and nothing changes (no audit
entry in the tenant or platform chain, no new tenant, no new member)."""

from __future__ import annotations

import pytest

from tests.support.actors import CORE_FUNCTIONS, load_router

# (function, method, path template, body, raw_body, expected status, field named in details)
BAD_INPUTS = [
    ("tenants", "POST", "/", {"name": "X", "owner_email": "x@example.com", "owner_name": "X"}, None, 422, "id"),
    ("tenants", "POST", "/", {"id": "Bad_Id", "name": "X", "owner_email": "x@example.com", "owner_name": "X"},
     None, 422, "id"),
    ("tenants", "POST", "/", {"id": "okay-id", "name": "", "owner_email": "x@example.com", "owner_name": "X"},
     None, 422, "name"),
    ("tenants", "POST", "/", {"id": "okay-id", "name": "X", "owner_email": "not-an-email", "owner_name": "X"},
     None, 422, "owner_email"),
    ("tenants", "POST", "/", {"id": "okay-id", "name": "X", "owner_email": "x@example.com", "owner_name": "X",
                              "plan": "gold"}, None, 422, "plan"),
    ("tenants", "POST", "/", None, "{not json", 400, None),
    ("tenants", "POST", "/", ["a", "list"], None, 400, None),  # JSON, but not an object: malformed (api-style.md)
    ("tenants", "GET", "/?limit=0", None, None, 422, "limit"),
    ("tenants", "GET", "/?limit=abc", None, None, 400, "limit"),  # not a number: invalid_type (api-style.md)
    ("tenants", "GET", "/?status=deleted", None, None, 422, "status"),
    ("tenants", "GET", "/?cursor=no-such-tenant", None, None, 422, "cursor"),
    ("tenants", "GET", "/settings?limit=x", None, None, 200, None),  # no input: extra params are ignored
    ("tenants", "PATCH", "/settings", {"credit_value_cents": 0}, None, 422, "credit_value_cents"),
    ("tenants", "PATCH", "/settings", {"credit_value_cents": "ten"}, None, 400, "credit_value_cents"),
    ("tenants", "PATCH", "/settings", {"min_purchase_credits": 10**8, "max_purchase_credits": 1}, None, 422,
     "max_purchase_credits"),
    ("tenants", "PATCH", "/settings", {"retention_days": None}, None, 422, "retention_days"),
    ("tenants", "PATCH", "/settings", {}, None, 422, "body"),
    ("tenants", "PATCH", "/settings", {"colour": "red"}, None, 422, "colour"),
    ("tenants", "GET", "/{a}", None, None, 200, None),
    ("tenants", "GET", "/NOT-valid", None, None, 404, None),
    ("tenants", "PATCH", "/{a}", {"status": "deleted"}, None, 422, "status"),
    ("tenants", "PATCH", "/{a}", {"name": ""}, None, 422, "name"),
    ("tenants", "PATCH", "/{a}", {"name": None}, None, 422, "name"),
    ("tenants", "PATCH", "/{a}", {}, None, 422, "body"),
    ("tenants", "PATCH", "/{a}", {"settings": {"rate_limit_per_minute": 0}}, None, 422,
     "settings.rate_limit_per_minute"),
    ("tenants", "PATCH", "/missing-tenant", {"name": "X"}, None, 404, None),
    ("tenants", "POST", "/missing-tenant/suspend", None, None, 404, None),
    ("tenants", "POST", "/missing-tenant/reactivate", None, None, 404, None),
    ("tenants", "POST", "/missing-tenant/provision", None, None, 404, None),
    ("members", "POST", "/", {"email": "nope", "role": "viewer"}, None, 422, "email"),
    ("members", "POST", "/", {"email": "a@example.com", "role": "god"}, None, 422, "role"),
    ("members", "POST", "/", {"email": "a@example.com"}, None, 422, "role"),
    ("members", "POST", "/", {"email": "a@example.com", "role": "viewer", "name": ""}, None, 422, "name"),
    ("members", "POST", "/", None, "[[[", 400, None),
    ("members", "GET", "/?limit=101", None, None, 422, "limit"),
    ("members", "GET", "/?cursor=unknown-cursor", None, None, 422, "cursor"),
    ("members", "PATCH", "/{viewer}", {"role": "god"}, None, 422, "role"),
    ("members", "PATCH", "/{viewer}", {}, None, 422, "role"),
    ("members", "PATCH", "/nobody-here", {"role": "viewer"}, None, 404, None),
    ("members", "DELETE", "/nobody-here", None, None, 404, None),
    ("members", "GET", "/invitations?limit=0", None, None, 422, "limit"),
    ("members", "GET", "/invitations?cursor=unknown-cursor", None, None, 422, "cursor"),
    ("members", "DELETE", "/invitations/no-such-invitation", None, None, 404, None),
    ("members", "DELETE", "/invitations/%20bad%20id!", None, None, 404, None),
    ("auth", "GET", "/me?junk=1", None, None, 200, None),
    ("audit", "GET", "/?from=yesterday", None, None, 422, "from"),
    ("audit", "GET", "/?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z", None, None, 422, "from"),
    ("audit", "GET", "/?limit=-1", None, None, 422, "limit"),
    ("audit", "GET", "/?action=" + "x" * 65, None, None, 422, "action"),
    ("audit", "GET", "/?cursor=seq999999999999", None, None, 422, "cursor"),
    ("audit", "GET", "/verify?limit=x", None, None, 200, None),
    ("audit", "GET", "/export?x=1", None, None, 200, None),
    ("audit", "GET", "/export?format=xml", None, None, 422, "format"),
    ("audit", "GET", "/checkpoints/export?x=1", None, None, 200, None),
    ("audit", "GET", "/platform/checkpoints/export?x=1", None, None, 200, None),
    ("audit", "GET", "/public-key?x=1", None, None, 200, None),
    ("audit", "GET", "/platform?to=nope", None, None, 422, "to"),
    ("audit", "GET", "/platform/verify?x=1", None, None, 200, None),
    ("audit", "GET", "/platform/export?x=1", None, None, 200, None),
]


ROUTERS = {f: load_router(f) for f in CORE_FUNCTIONS}


def route_of(function_id: str, method: str, path: str) -> tuple[str, str, str]:
    """The route template a concrete bad-input path hits (for the coverage check)."""
    route, _ = ROUTERS[function_id].match(method, path.split("?")[0])
    return (function_id, route.method, route.path)


def test_every_route_has_a_bad_input_case():
    covered = {route_of(f, m, p.replace("{a}", "x").replace("{viewer}", "x")) for f, m, p, *_ in BAD_INPUTS}
    assert covered == {(f, r.method, r.path) for f, router in ROUTERS.items() for r in router.routes
                       if r.action != "openapi.read"}  # takes no input


class Snapshot:
    """What a bad input must not change: both audit chains' heads, the tenant and member lists, the
    platform settings and tenant A. Each read is six executions, so a case's ``before`` is the state the
    previous case of this module left and checked unchanged (nothing else runs between two cases of one
    module: ``--dist loadfile``), re-read whenever there is none (the first case, after a failure)."""

    def __init__(self, world) -> None:
        self.world = world
        self.left: tuple | None = None

    def take(self) -> tuple:
        world, a_owner = self.world, self.world.a_roles["owner"]
        return (
            a_owner.call("audit", "GET", "/verify").body["head_seq"],
            world.admin.call("audit", "GET", "/platform/verify").body["head_seq"],
            len(world.admin.call("tenants", "GET", "/?limit=100").body["items"]),
            len(a_owner.call("members", "GET", "/?limit=100").body["items"]),
            world.admin.call("tenants", "GET", "/settings").body["settings"],
            world.admin.call("tenants", "GET", f"/{world.a}").body["tenant"],
        )

    def before(self) -> tuple:
        left, self.left = self.left, None
        return left if left is not None else self.take()

    def after(self, before: tuple) -> tuple:
        after = self.take()
        if after == before:
            self.left = after
        return after


@pytest.fixture(scope="module")
def snapshot(world) -> Snapshot:
    return Snapshot(world)


@pytest.mark.parametrize(("function_id", "method", "path", "body", "raw", "status", "field"), BAD_INPUTS,
                         ids=[f"{c[0]}:{c[1]}:{c[2][:40]}:{i}" for i, c in enumerate(BAD_INPUTS)])
def test_bad_input_is_a_4xx_with_field_details_and_changes_nothing(world, snapshot, function_id, method, path,
                                                                   body, raw, status, field):
    caller = world.admin if function_id == "tenants" or "/platform" in path else world.a_roles["owner"]
    concrete = path.replace("{a}", world.a).replace("{viewer}", world.a_roles["viewer"].user_id)
    before = snapshot.before()
    result = caller.call(function_id, method, concrete, body, tenant=world.a, raw_body=raw)
    assert result.status == status, result
    if status >= 400:
        error = result.body["error"]
        assert error["code"] and error["message"]
        if field is not None:
            assert field in [d["field"] for d in error["details"]], error
    assert snapshot.after(before) == before
