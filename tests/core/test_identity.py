"""Identity resolution with a fake directory: tenant choice, platform admins, errors and call budget."""

from dataclasses import dataclass, field

import pytest

from bigtech.errors import BadRequest, Forbidden, NotFound, Unauthorized
from bigtech.identity import Membership, UserInfo, resolve
from bigtech.permissions import PLATFORM_ADMIN
from bigtech.tenancy import Tenant


@dataclass
class FakeDirectory:
    members: dict[str, list[Membership]] = field(default_factory=dict)
    users: dict[str, UserInfo] = field(default_factory=dict)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def memberships(self, user_id):
        self.calls.append("memberships")
        return self.members.get(user_id, [])

    def user(self, user_id):
        self.calls.append("user")
        return self.users.get(user_id)

    def tenant(self, tenant_id):
        self.calls.append("tenant")
        return self.tenants.get(tenant_id)


def tenant(tenant_id, status="active"):
    return Tenant(tenant_id, tenant_id.upper(), status, f"tenant_{tenant_id}")


@pytest.fixture
def directory():
    return FakeDirectory(
        members={
            "alice": [Membership("acme", "Acme", "owner")],
            "victor": [Membership("acme", "Acme", "viewer")],
            "multi": [Membership("acme", "Acme", "admin", "m1", "2026-02-01T00:00:00.000+00:00"),
                      Membership("beta", "Beta", "viewer", "m2", "2026-01-01T00:00:00.000+00:00")],
            "invited": [Membership("acme", "Acme", "owner", "m3", "", confirmed=False)],
            "root": [],
        },
        users={
            "alice": UserInfo("alice", "Alice", "a@x.io"),
            "root": UserInfo("root", "Root", "r@x.io", ("admin",)),
            "nobody": UserInfo("nobody", "No", "n@x.io"),
            "victor": UserInfo("victor", "V", "v@x.io"),
            "multi": UserInfo("multi", "M", "m@x.io"),
            "invited": UserInfo("invited", "I", "i@x.io"),
        },
        tenants={"acme": tenant("acme"), "beta": tenant("beta"), "frozen": tenant("frozen", "suspended")},
    )


def headers(user=None, tenant_id=None):
    found = {}
    if user:
        found["x-appwrite-user-id"] = user
    if tenant_id:
        found["x-tenant-id"] = tenant_id
    return found


def test_no_user_is_401(directory):
    with pytest.raises(Unauthorized):
        resolve(headers(), "me.read", directory)
    assert directory.calls == []


def test_a_member_reading_costs_one_call(directory):
    identity = resolve(headers("alice"), "members.list", directory)
    assert (identity.tenant_id, identity.role) == ("acme", "owner")
    assert directory.calls == ["memberships"]


def test_a_member_writing_also_checks_the_tenant_status(directory):
    resolve(headers("alice"), "members.add", directory)
    assert directory.calls == ["memberships", "tenant"]


def test_a_weaker_role_is_refused(directory):
    with pytest.raises(Forbidden) as caught:
        resolve(headers("victor"), "members.add", directory)
    assert caught.value.code == "forbidden"


def test_several_tenants_default_to_the_oldest_accepted_membership(directory):
    identity = resolve(headers("multi"), "me.read", directory)
    assert (identity.tenant_id, identity.role) == ("beta", "viewer")  # joined in January, before acme
    assert directory.calls == ["memberships", "user"]  # the user's prefs are read only in this case
    identity = resolve(headers("multi", "acme"), "me.read", directory)
    assert (identity.tenant_id, identity.role) == ("acme", "admin")


def test_the_default_tenant_pref_wins_while_still_a_member(directory):
    directory.users["multi"] = UserInfo("multi", "M", "m@x.io", default_tenant="acme")
    assert resolve(headers("multi"), "members.list", directory).tenant_id == "acme"  # as its admin
    directory.users["multi"] = UserInfo("multi", "M", "m@x.io", default_tenant="gone")  # no longer a member
    assert resolve(headers("multi"), "me.read", directory).tenant_id == "beta"


def test_a_pending_invitation_grants_nothing(directory):
    with pytest.raises(Forbidden) as caught:
        resolve(headers("invited"), "members.list", directory)
    assert caught.value.code == "no_tenant"
    with pytest.raises(Forbidden) as caught:
        resolve(headers("invited", "acme"), "members.list", directory)
    assert caught.value.code == "not_a_member"
    identity = resolve(headers("invited"), "me.read", directory)
    assert identity.tenant_id is None and [m.tenant_id for m in identity.invitations] == ["acme"]


def test_a_foreign_tenant_is_forbidden(directory):
    with pytest.raises(Forbidden) as caught:
        resolve(headers("alice", "beta"), "members.list", directory)
    assert caught.value.code == "not_a_member"


def test_a_platform_admin_acts_in_any_tenant_in_three_calls(directory):
    identity = resolve(headers("root", "beta"), "members.add", directory)
    assert (identity.tenant_id, identity.role) == ("beta", PLATFORM_ADMIN)
    assert sorted(directory.calls) == ["memberships", "tenant", "user"]


def test_a_platform_admin_naming_a_missing_tenant_gets_404(directory):
    with pytest.raises(NotFound):
        resolve(headers("root", "ghost"), "members.list", directory)
    with pytest.raises(NotFound):
        resolve(headers("root", "NOT VALID"), "members.list", directory)


def test_a_platform_admin_without_a_tenant_must_choose(directory):
    with pytest.raises(BadRequest):
        resolve(headers("root"), "members.list", directory)


def test_platform_routes_cost_one_call(directory):
    identity = resolve(headers("root"), "tenants.create", directory)
    assert identity.role == PLATFORM_ADMIN and directory.calls == ["user"]
    with pytest.raises(Forbidden) as caught:
        resolve(headers("alice"), "tenants.list", directory)
    assert caught.value.code == "platform_admin_required"


def test_a_user_without_tenant_may_still_read_me(directory):
    identity = resolve(headers("nobody"), "me.read", directory)
    assert identity.tenant_id is None and identity.role is None
    with pytest.raises(Forbidden) as caught:
        resolve(headers("nobody"), "members.list", directory)
    assert caught.value.code == "no_tenant"


def test_suspended_tenant_members_only_read(directory):
    directory.members["sam"] = [Membership("frozen", "Frozen", "owner")]
    resolve(headers("sam"), "members.list", directory)
    with pytest.raises(Forbidden) as caught:
        resolve(headers("sam"), "members.add", directory)
    assert caught.value.code == "tenant_suspended"


def test_unknown_action_is_denied(directory):
    with pytest.raises(Forbidden):
        resolve(headers("alice"), "made.up", directory)


def test_public_actions_need_no_identity_and_no_call(directory):
    identity = resolve(headers(), "health.read", directory)
    assert identity.user_id == "" and directory.calls == []
