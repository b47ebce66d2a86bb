"""The permission matrix as data: deny by default, platform-only actions, suspension, role assignment."""

import pytest

from bigtech import permissions
from bigtech.errors import Forbidden
from bigtech.permissions import ADMIN, ANALYST, MATRIX, OWNER, PLATFORM_ADMIN, TENANT_ROLES, VIEWER


def test_unknown_actions_are_denied_to_everyone():
    for role in (*TENANT_ROLES, PLATFORM_ADMIN, None):
        assert not permissions.allowed(role, "nothing.here")


def test_platform_actions_are_for_platform_admins_only():
    for action, rule in MATRIX.items():
        if rule.scope == "platform":
            assert permissions.allowed(PLATFORM_ADMIN, action)
            assert not any(permissions.allowed(role, action) for role in TENANT_ROLES)


def test_me_is_open_to_every_signed_in_user():
    assert all(permissions.allowed(role, "me.read") for role in (*TENANT_ROLES, None))


@pytest.mark.parametrize("action", ["members.add", "members.update", "members.remove", "audit.verify"])
def test_management_is_for_owners_and_admins(action):
    assert permissions.allowed(OWNER, action) and permissions.allowed(ADMIN, action)
    assert not permissions.allowed(ANALYST, action) and not permissions.allowed(VIEWER, action)


def test_suspended_tenants_only_read():
    permissions.check("members.list", OWNER, suspended=True)
    with pytest.raises(Forbidden) as caught:
        permissions.check("members.add", OWNER, suspended=True)
    assert caught.value.code == "tenant_suspended"
    permissions.check("members.add", PLATFORM_ADMIN, suspended=True)


def test_denial_is_a_403_naming_the_action():
    with pytest.raises(Forbidden) as caught:
        permissions.check("members.add", VIEWER)
    assert caught.value.code == "forbidden" and caught.value.details["action"] == "members.add"


def test_admins_cannot_make_owners():
    assert permissions.can_assign(OWNER, OWNER) and permissions.can_assign(PLATFORM_ADMIN, OWNER)
    assert not permissions.can_assign(ADMIN, OWNER) and permissions.can_assign(ADMIN, VIEWER)
    assert not permissions.can_assign(ANALYST, VIEWER)


def test_permissions_for_lists_what_the_role_may_do():
    viewer = permissions.permissions_for(VIEWER)
    assert "me.read" in viewer and "members.add" not in viewer
    owner = permissions.permissions_for(OWNER)
    assert {"members.add", "audit.verify"} <= set(owner) and "tenants.create" not in owner
    assert "tenants.create" in permissions.permissions_for(None, platform_admin=True)


def test_read_verbs():
    assert permissions.is_read("audit.export") and permissions.is_read("tenants.list")
    assert not permissions.is_read("members.add")
