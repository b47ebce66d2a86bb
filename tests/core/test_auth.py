"""``auth`` GET /me: user, tenant, role and permissions for each kind of caller; 401 without identity."""

from __future__ import annotations

from appwrite.exception import AppwriteException
from appwrite.services.account import Account

from bigtech import permissions
from tests.conftest import make_client
from tests.support.actors import actor_for, add_member, call, create_tenant


def test_member_sees_their_tenant_role_and_permissions(world):
    for role, actor in world.a_roles.items():
        me = actor.call("auth", "GET", "/me")
        assert me.status == 200, me
        assert me.body["user"]["id"] == actor.user_id
        assert me.body["tenant"] == {"id": world.a, "name": "Alpha", "status": "active"}
        assert me.body["role"] == role and me.body["platform_admin"] is False
        assert me.body["permissions"] == permissions.permissions_for(role)
        assert me.body["tenants"] == [{"id": world.a, "name": "Alpha", "role": role}]


def test_platform_admin_in_a_tenant_and_without_one(world):
    alone = world.admin.call("auth", "GET", "/me").body
    assert alone["platform_admin"] is True and alone["tenant"] is None and "tenants.create" in alone["permissions"]
    inside = world.admin.call("auth", "GET", "/me", tenant=world.b).body
    assert inside["tenant"]["id"] == world.b and inside["role"] == "platform_admin"


def test_a_user_of_several_tenants_works_without_choosing(stack, world):
    """No ``x-tenant-id``: the ``default_tenant`` pref while still a member, else the tenant joined first."""
    other, other_owner = create_tenant(stack, world.admin)
    both = add_member(other_owner, "viewer", email=world.a_roles["analyst"].email)
    assert both.user_id == world.a_roles["analyst"].user_id
    undecided = both.call("auth", "GET", "/me")
    assert undecided.status == 200, undecided
    assert (undecided.body["tenant"]["id"], undecided.body["role"]) == (world.a, "analyst")  # joined first
    assert undecided.body["default_tenant"] == world.a
    assert {t["id"] for t in undecided.body["tenants"]} == {world.a, other}
    account = Account(make_client(stack, jwt=both.jwt))
    account.update_prefs({"default_tenant": other})  # the user's own choice (Web SDK: account.updatePrefs)
    try:
        chosen = both.call("auth", "GET", "/me").body
        assert (chosen["tenant"]["id"], chosen["role"], chosen["default_tenant"]) == (other, "viewer", other)
        assert both.call("consultas", "GET", "/").status == 200  # works as a viewer of ``other``
        assert both.call("auth", "GET", "/me", tenant=world.a).body["role"] == "analyst"  # the header still wins
        other_owner.call("members", "DELETE", f"/{both.user_id}")  # no longer a member: the pref is ignored
        assert both.call("auth", "GET", "/me").body["tenant"]["id"] == world.a
    finally:
        account.update_prefs({})  # leave world's analyst as it was


def test_a_user_without_tenant(world):
    me = world.outsider.call("auth", "GET", "/me").body
    assert me["tenant"] is None and me["role"] is None
    assert me["permissions"] == sorted(a for a, rule in permissions.MATRIX.items() if rule.scope == "self")


def test_no_identity_is_401(stack):
    anonymous = call(stack, None, "auth", "GET", "/me")  # the dev key: no x-appwrite-user-id
    assert (anonymous.status, anonymous.error_code) == (401, "unauthenticated")


def test_an_invalid_jwt_is_refused_by_appwrite(stack, world):
    forged = actor_for(stack, world.outsider.user_id)
    forged.jwt = forged.jwt[:-4] + "AAAA"
    try:
        result = forged.call("auth", "GET", "/me")
    except AppwriteException as error:
        assert error.code == 401
    else:
        assert result.status == 401
