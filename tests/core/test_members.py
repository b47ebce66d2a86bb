"""The members function: add by email (creating the user when needed), list, change role, remove; the
last owner stays; admins cannot make owners; every change is audited with its event."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, create_user, unique_suffix


@pytest.fixture
def tenant(stack, world):
    """A fresh tenant per test: these tests change its members."""
    return create_tenant(stack, world.admin)


def outbox_types(stack, tenant_id):
    rows = TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", "outbox", [Query.limit(100)]).rows
    return [row.data["type"] for row in rows]


def test_add_creates_the_user_and_returns_the_audit_id(stack, tenant):
    tenant_id, owner = tenant
    email = f"Fresh-{unique_suffix()}@Example.com"
    result = owner.call("members", "POST", "/", {"email": email, "name": "Fresh", "role": "analyst"})
    assert result.status == 201, result
    assert result.body["user_created"] is True and result.body["audit_id"]
    assert result.body["member"]["role"] == "analyst" and result.body["member"]["email"] == email.lower()
    again = owner.call("members", "POST", "/", {"email": email, "role": "viewer"})
    assert (again.status, again.error_code) == (409, "already_member")
    assert "member.added" in outbox_types(stack, tenant_id)
    trail = owner.call("audit", "GET", "/?action=members.add").body["items"]
    assert trail[0]["id"] == result.body["audit_id"] and trail[0]["details"]["role"] == "analyst"


def test_add_an_existing_user(stack, tenant):
    _, owner = tenant
    existing = create_user(stack)
    result = owner.call("members", "POST", "/", {"email": existing.email, "role": "viewer"})
    assert result.status == 201 and result.body["member"]["user_id"] == existing.user_id
    assert result.body["user_created"] is False
    assert Users(make_client(stack)).list([Query.equal("email", [existing.email])]).total == 1


def test_list_paginates(tenant):
    _, owner = tenant
    for _ in range(3):
        add_member(owner, "viewer")
    first = owner.call("members", "GET", "/?limit=2").body
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = owner.call("members", "GET", f"/?limit=2&cursor={first['next_cursor']}").body
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert {m["user_id"] for m in first["items"]}.isdisjoint({m["user_id"] for m in second["items"]})


def test_change_role_and_remove(stack, tenant):
    tenant_id, owner = tenant
    viewer = add_member(owner, "viewer")
    changed = owner.call("members", "PATCH", f"/{viewer.user_id}", {"role": "admin"})
    assert changed.status == 200 and changed.body["member"]["role"] == "admin" and changed.body["audit_id"]
    assert viewer.call("auth", "GET", "/me").body["role"] == "admin"
    removed = owner.call("members", "DELETE", f"/{viewer.user_id}")
    assert removed.status == 200 and removed.body["audit_id"]
    assert viewer.call("auth", "GET", "/me").body["tenant"] is None
    assert owner.call("members", "DELETE", f"/{viewer.user_id}").status == 404
    types = outbox_types(stack, tenant_id)
    assert types.count("member.role_changed") == 1 and types.count("member.removed") == 1


def test_the_last_owner_cannot_be_removed_or_demoted(tenant):
    _, owner = tenant
    demote = owner.call("members", "PATCH", f"/{owner.user_id}", {"role": "admin"})
    assert (demote.status, demote.error_code) == (409, "last_owner")
    remove = owner.call("members", "DELETE", f"/{owner.user_id}")
    assert (remove.status, remove.error_code) == (409, "last_owner")
    second = add_member(owner, "owner")
    assert owner.call("members", "PATCH", f"/{owner.user_id}", {"role": "admin"}).status == 200
    assert second.call("members", "DELETE", f"/{second.user_id}").error_code == "last_owner"
    assert owner.call("auth", "GET", "/me").body["role"] == "admin"


def test_admins_cannot_make_or_touch_owners(tenant):
    _, owner = tenant
    admin = add_member(owner, "admin")
    viewer = add_member(owner, "viewer")
    make_owner = admin.call("members", "PATCH", f"/{viewer.user_id}", {"role": "owner"})
    assert (make_owner.status, make_owner.error_code) == (403, "cannot_assign_owner")
    add_owner = admin.call("members", "POST", "/", {"email": f"o-{unique_suffix()}@example.com", "role": "owner"})
    assert (add_owner.status, add_owner.error_code) == (403, "cannot_assign_owner")
    assert admin.call("members", "DELETE", f"/{owner.user_id}").error_code == "cannot_manage_owner"
    assert admin.call("members", "PATCH", f"/{viewer.user_id}", {"role": "analyst"}).status == 200


def test_two_owners_demoting_each_other_at_once_keep_one_owner(stack, tenant):
    tenant_id, first = tenant
    second = add_member(first, "owner")
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda pair: pair[0].call("members", "PATCH", f"/{pair[1].user_id}", {"role": "viewer"}),
            [(first, second), (second, first)],
        ))
    assert sorted(r.status for r in results) in ([200, 403], [200, 409], [409, 409]), results
    memberships = Teams(make_client(stack)).list_memberships(tenant_id).memberships
    assert any("owner" in m.roles for m in memberships)
