"""The tenants function end to end: create (database, team, owner), list, get, update, suspend and
reactivate, platform settings; through executions as a platform admin."""

from __future__ import annotations

import time

import pytest
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from bigtech.schema import TENANT_SCHEMA, provision_tenant
from tests.conftest import make_client
from tests.support.actors import (
    actor_for,
    add_member,
    create_tenant,
    create_user,
    tenant_id_for,
    unique_suffix,
    wait_until_provisioned,
)


@pytest.fixture(scope="module")
def admin(world):
    return world.admin


def test_create_provisions_the_database_team_and_owner(stack, admin):
    tenant_id = tenant_id_for("new")
    email = f"boss-{unique_suffix()}@example.com"
    result = admin.call("tenants", "POST", "/", {"id": tenant_id, "name": "New Co", "owner_email": email,
                                                 "owner_name": "Boss"})
    assert result.status == 202, result
    body = result.body
    assert body["tenant"]["id"] == tenant_id and body["tenant"]["status"] in {"provisioning", "active"}
    assert body["tenant"]["database_id"] == f"tenant_{tenant_id}"
    assert body["owner"]["created"] is True and body["audit_id"]
    assert wait_until_provisioned(admin, tenant_id)["status"] == "active"
    client = make_client(stack)
    tables = TablesDB(client)
    have = {t.id for t in tables.list_tables(f"tenant_{tenant_id}", [Query.limit(100)]).tables}
    assert have == {t.id for t in TENANT_SCHEMA.tables}
    assert not provision_tenant(tables, tenant_id).changed  # re-running provisioning changes nothing
    assert Teams(client).get(tenant_id).name == "New Co"
    memberships = Teams(client).list_memberships(tenant_id).memberships
    assert [(m.useremail, m.roles) for m in memberships] == [(email, ["owner"])]
    outbox = tables.list_rows(f"tenant_{tenant_id}", "outbox", [Query.limit(100)]).rows
    # Staged exactly once; the relay may already have published it.
    assert [r.data["type"] for r in outbox].count("tenant.created") == 1
    platform = admin.call("audit", "GET", "/platform?action=tenants.create&limit=100").body["items"]
    assert any(e["id"] == body["audit_id"] and e["resource_id"] == tenant_id for e in platform)
    owner = actor_for(stack, body["owner"]["id"], email)
    me = owner.call("auth", "GET", "/me").body
    assert (me["tenant"]["id"], me["role"]) == (tenant_id, "owner")


def test_an_existing_user_becomes_owner_without_a_new_account(stack, admin):
    existing = create_user(stack)
    _, owner = create_tenant(stack, admin, owner_email=existing.email)
    assert owner.user_id == existing.user_id
    assert Users(make_client(stack)).list([Query.equal("email", [existing.email])]).total == 1


def test_duplicate_id_is_409_and_bad_id_is_422(stack, admin, world):
    dup = admin.call("tenants", "POST", "/", {"id": world.a, "name": "Again", "owner_email": "x@example.com",
                                              "owner_name": "X"})
    assert (dup.status, dup.error_code) == (409, "tenant_exists")
    for bad in ("UPPER", "no_underscores", "ab", "-leading", "x" * 30):
        result = admin.call("tenants", "POST", "/", {"id": bad, "name": "N", "owner_email": "x@example.com",
                                                     "owner_name": "X"})
        assert result.status == 422, (bad, result)
        assert result.body["error"]["details"][0]["field"] == "id"


@pytest.mark.slow
def test_list_filters_by_status_and_paginates(stack, admin):
    created = [create_tenant(stack, admin, tenant_id_for("pg"))[0] for _ in range(3)]
    admin.call("tenants", "POST", f"/{created[1]}/suspend")
    suspended = admin.call("tenants", "GET", "/?status=suspended&limit=100").body["items"]
    assert created[1] in {t["id"] for t in suspended}
    assert all(t["status"] == "suspended" for t in suspended)
    seen, cursor = [], None
    while True:
        page = admin.call("tenants", "GET", "/?limit=2" + (f"&cursor={cursor}" if cursor else "")).body
        assert len(page["items"]) <= 2
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) and set(created) <= set(seen)


def test_get_and_update(stack, admin):
    tenant_id, _ = create_tenant(stack, admin)
    assert admin.call("tenants", "GET", f"/{tenant_id}").body["tenant"]["id"] == tenant_id
    assert admin.call("tenants", "GET", "/nope-not-here").status == 404
    updated = admin.call("tenants", "PATCH", f"/{tenant_id}",
                         {"name": "Renamed", "settings": {"rate_limit_per_minute": 120}})
    assert updated.status == 200, updated
    assert updated.body["tenant"]["name"] == "Renamed"
    assert updated.body["tenant"]["settings"] == {"rate_limit_per_minute": 120}
    assert updated.body["audit_id"]
    same = admin.call("tenants", "PATCH", f"/{tenant_id}", {"name": "Renamed"})
    assert same.body == {**same.body, "changed": False, "audit_id": None}


def test_suspended_members_may_only_read(stack, admin):
    tenant_id, owner = create_tenant(stack, admin)
    viewer = add_member(owner, "viewer")
    suspended = admin.call("tenants", "PATCH", f"/{tenant_id}", {"status": "suspended"})
    assert suspended.status == 200 and suspended.body["tenant"]["status"] == "suspended"
    blocked = owner.call("members", "POST", "/", {"email": f"late-{unique_suffix()}@example.com", "role": "viewer"})
    assert (blocked.status, blocked.error_code) == (403, "tenant_suspended")
    assert owner.call("members", "DELETE", f"/{viewer.user_id}").error_code == "tenant_suspended"
    assert owner.call("members", "GET", "/").status == 200
    assert owner.call("audit", "GET", "/verify").status == 200
    assert owner.call("auth", "GET", "/me").body["tenant"]["status"] == "suspended"
    reactivated = admin.call("tenants", "POST", f"/{tenant_id}/reactivate")
    assert reactivated.status == 200 and reactivated.body["tenant"]["status"] == "active"
    assert owner.call("members", "DELETE", f"/{viewer.user_id}").status == 200
    outbox = TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", "outbox", [Query.limit(100)]).rows
    types = [r.data["type"] for r in outbox]
    assert {"tenant.created", "tenant.suspended", "tenant.reactivated", "member.added", "member.removed"} <= set(types)


def test_platform_settings_are_validated_and_audited(admin):
    before = admin.call("tenants", "GET", "/settings")
    assert before.status == 200 and set(before.body["settings"]) >= {
        "credit_value_cents", "min_purchase_credits", "max_purchase_credits", "default_rate_limit_per_minute",
        "retention_days"}
    original = {key: before.body["settings"][key] for key in ("credit_value_cents", "min_purchase_credits")}
    try:
        changed = admin.call("tenants", "PATCH", "/settings", {"credit_value_cents": 250, "min_purchase_credits": 20})
        assert changed.status == 200, changed
        assert changed.body["settings"]["credit_value_cents"] == 250 and changed.body["audit_id"]
        assert admin.call("tenants", "GET", "/settings").body["settings"]["min_purchase_credits"] == 20
        bad = admin.call("tenants", "PATCH", "/settings", {"max_purchase_credits": 5})
        assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "max_purchase_credits"
        assert admin.call("tenants", "GET", "/settings").body["settings"]["max_purchase_credits"] != 5
    finally:  # the platform settings are shared by every test on the session's stack
        assert admin.call("tenants", "PATCH", "/settings", original).status == 200


def test_concurrent_creates_of_one_id_make_one_tenant_with_one_owner(stack, admin):
    from concurrent.futures import ThreadPoolExecutor

    tenant_id = tenant_id_for("race")
    bodies = [{"id": tenant_id, "name": f"Race {n}", "owner_email": f"race{n}-{unique_suffix()}@example.com",
               "owner_name": "R"} for n in range(2)]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda body: admin.call("tenants", "POST", "/", body), bodies))
    assert sorted(r.status for r in results) == [202, 409], results
    winner = next(r for r in results if r.status == 202).body["owner"]["id"]
    wait_until_provisioned(admin, tenant_id)
    memberships = Teams(make_client(stack)).list_memberships(tenant_id).memberships
    assert [m.userid for m in memberships] == [winner]


def test_create_answers_202_before_provisioning(stack, admin):
    """The request path records the tenant; the database, team and plugins come from an async execution."""
    tenant_id = tenant_id_for("fast")
    result = admin.call("tenants", "POST", "/", {"id": tenant_id, "name": "Fast", "owner_email":
                                                 f"fast-{unique_suffix()}@example.com", "owner_name": "F"})
    assert result.status == 202, result
    assert result.body["provisioning"]["status"] == "provisioning"
    execution_id = result.body["provisioning"]["execution_id"]
    functions = Functions(make_client(stack))
    execution = functions.get_execution("provisioning", execution_id)  # another function: tenants stays free
    assert execution.trigger.value == "http" and execution.requestpath == f"/{tenant_id}"
    tenant = wait_until_provisioned(admin, tenant_id)
    assert tenant["provisioning"] == {"status": "active", "error": None}
    # the tenant turns active inside the execution, moments before the execution itself ends
    deadline = time.monotonic() + 30
    while functions.get_execution("provisioning", execution_id).status.value != "completed":
        assert time.monotonic() < deadline, "the provisioning execution never completed"
        time.sleep(0.1)
    tables = TablesDB(make_client(stack))
    assert {t.id for t in tables.list_tables(f"tenant_{tenant_id}", [Query.limit(100)]).tables} == {
        t.id for t in TENANT_SCHEMA.tables}


def test_provisioning_makes_one_create_table_call_per_table(stack):
    """Each table comes with its columns and indexes inline: no per-column or per-index call."""
    calls: list[str] = []

    tables = TablesDB(make_client(stack))
    tenant_id = tenant_id_for("one")

    def observe(request, route, response):  # the dispatcher's observer; other tests' runs may be in flight
        if f"tenant_{tenant_id}" in request.path or (request.path.endswith("/tablesdb") and request.method == "POST"):
            calls.append(f"{request.method} {request.path}")

    stack.dispatcher.observers.append(observe)
    try:
        report = provision_tenant(tables, tenant_id)
    finally:
        stack.dispatcher.observers.remove(observe)
    assert len(report.tables_created) == len(TENANT_SCHEMA.tables)
    assert not [c for c in calls if "/columns" in c or "/indexes" in c], calls
    assert len(calls) == len(TENANT_SCHEMA.tables) + 2  # + create database + list tables
    for table in TENANT_SCHEMA.tables:
        made = tables.get_table(f"tenant_{tenant_id}", table.id)
        assert [c.key for c in made.columns] == [c.key for c in table.columns]
        assert [i.key for i in made.indexes] == [i.key for i in table.indexes]
    assert not provision_tenant(tables, tenant_id).changed


def test_the_provisioning_run_refuses_users_and_retries_for_admins(stack, admin, world):
    """``POST /{id}/provision``: a member may not call it; an admin may only retry what is not active; no user
    may execute the provisioning function itself (``execute: []``)."""
    owner = world.a_roles["owner"]
    assert owner.call("tenants", "POST", f"/{world.a}/provision").status == 403
    with pytest.raises(AppwriteException) as refused:
        Functions(make_client(stack, jwt=admin.jwt)).create_execution("provisioning", path=f"/{world.a}")
    assert refused.value.code == 401
    again = admin.call("tenants", "POST", f"/{world.a}/provision")
    assert (again.status, again.error_code) == (409, "tenant_provisioned")
    # A tenant whose first run failed before doing anything (e.g. the stack lost its execution).
    tables = TablesDB(make_client(stack))
    tenant_id, owner_user = tenant_id_for("retry"), create_user(stack)
    tables.create_row("core", "tenants", tenant_id, {
        "name": "Retry", "status": "active", "owner_user_id": owner_user.user_id, "team_id": tenant_id,
        "database_id": f"tenant_{tenant_id}", "settings": "{}", "created_by": admin.user_id,
        "provisioning": "failed", "provisioning_error": "boom"})
    failed = admin.call("tenants", "GET", f"/{tenant_id}").body["tenant"]
    assert failed["status"] == "failed" and failed["provisioning"]["error"] == "boom"
    retried = admin.call("tenants", "POST", f"/{tenant_id}/provision")
    assert retried.status == 202, retried
    assert retried.body["tenant"]["status"] == "provisioning"
    assert wait_until_provisioned(admin, tenant_id)["status"] == "active"
    outbox = tables.list_rows(f"tenant_{tenant_id}", "outbox", [Query.equal("type", ["tenant.created"])]).rows
    assert len(outbox) == 1
    memberships = Teams(make_client(stack)).list_memberships(tenant_id).memberships
    assert [(m.userid, m.roles) for m in memberships] == [(owner_user.user_id, ["owner"])]
    again = admin.call("tenants", "POST", f"/{tenant_id}/provision")
    assert (again.status, again.error_code) == (409, "tenant_provisioned")
