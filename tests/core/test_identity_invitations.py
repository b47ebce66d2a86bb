"""Finding 6 of the security review, attacked as a tenant admin would: adding another tenant's owner and
the platform admin by e-mail. Now each is only a pending invitation that grants the attacker's tenant
nothing over the victim and changes nothing for the victim, and the answer does not tell whether an
address has an account."""

from __future__ import annotations

import pytest
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from tests.conftest import make_client
from tests.support.actors import accept_invitation, add_member, create_tenant, read_invitation, unique_suffix


@pytest.fixture
def attacker_tenant(stack, world):
    """A fresh tenant whose admin is the attacker."""
    tenant_id, owner = create_tenant(stack, world.admin)
    return tenant_id, owner, add_member(owner, "admin")


def me_without_header(actor):
    result = actor.call("auth", "GET", "/me")
    assert result.status == 200, result
    return result.body


def test_a_tenant_admin_cannot_take_in_another_tenants_owner_or_the_platform_admin(stack, world, attacker_tenant):
    tenant_id, _, attacker = attacker_tenant
    victim_owner, platform_admin = world.b_roles["owner"], world.admin
    victims = {"owner of B": victim_owner, "platform admin": platform_admin}
    before = {name: me_without_header(victim) for name, victim in victims.items()}
    unknown = f"ghost-{unique_suffix()}@example.com"

    answers = {name: attacker.call("members", "POST", "/", {"email": victim.email, "role": "admin"})
               for name, victim in victims.items()}
    answers["unknown"] = attacker.call("members", "POST", "/", {"email": unknown, "role": "admin"})
    for name, answer in answers.items():
        assert answer.status == 201, (name, answer)
        assert answer.body["invitation"]["status"] == "pending"
        assert sorted(answer.body) == ["audit_id", "invitation"] and "user_created" not in answer.raw
    assert len({tuple(sorted(a.body["invitation"])) for a in answers.values()}) == 1  # identical shapes
    for victim in victims.values():
        assert victim.user_id not in answers["owner of B"].raw + answers["platform admin"].raw

    # nothing changed for the victims: same tenant and role without x-tenant-id, no 400 tenant_required
    for name, victim in victims.items():
        after = me_without_header(victim)
        assert (after["tenant"], after["role"], after["tenants"]) == \
            (before[name]["tenant"], before[name]["role"], before[name]["tenants"]), name
        assert [i["tenant_id"] for i in after["invitations"]] == [tenant_id]  # they can see who asked
    assert victim_owner.call("members", "GET", "/").status == 200  # still B's owner, still working
    # and the attacker's tenant gained nothing over them
    assert victim_owner.call("auth", "GET", "/me", tenant=tenant_id).error_code == "not_a_member"
    listed = {m["id"] for m in attacker.call("members", "GET", "/?limit=100").body["items"]}
    assert victim_owner.user_id not in listed and platform_admin.user_id not in listed
    for victim in victims.values():
        for verb, body in (("PATCH", {"role": "viewer"}), ("DELETE", None)):
            assert attacker.call("members", verb, f"/{victim.user_id}", body).error_code == "member_not_found"
    grant = attacker.call("billing", "POST", "/grants", {"user_id": victim_owner.user_id, "credits": 5,
                                                         "reason": "lure"})
    assert grant.status in (403, 404, 422), grant  # no credits to a pending invitee
    # the unknown address got no usable account
    found = Users(make_client(stack)).list([Query.equal("email", [unknown])]).users
    assert len(found) <= 1 and all(not user.passwordupdate for user in found)


def test_consent_is_the_victims_alone(stack, world, attacker_tenant):
    """Only the secret e-mailed to the victim accepts; the attacker cannot accept on their behalf."""
    tenant_id, owner, attacker = attacker_tenant
    victim = world.b_roles["viewer"]
    assert attacker.call("members", "POST", "/", {"email": victim.email, "role": "analyst"}).status == 201
    mail = read_invitation(stack, victim.email)
    as_attacker = Teams(make_client(stack, jwt=attacker.jwt))
    with pytest.raises(Exception) as caught:  # the attacker's session is not the invitee's
        as_attacker.update_membership_status(tenant_id, mail["membershipId"], mail["userId"], mail["secret"])
    assert getattr(caught.value, "type", "") == "team_invite_mismatch"
    with pytest.raises(Exception) as caught:  # nor does a guessed secret work
        Teams(make_client(stack, jwt=victim.jwt)).update_membership_status(
            tenant_id, mail["membershipId"], mail["userId"], "f" * 64)
    assert getattr(caught.value, "type", "") == "team_invalid_secret"
    assert victim.call("auth", "GET", "/me", tenant=tenant_id).error_code == "not_a_member"
    # once the victim accepts, they are an analyst there, and their own tenant stays their default
    accept_invitation(stack, victim.email)
    assert victim.call("auth", "GET", "/me", tenant=tenant_id).body["role"] == "analyst"
    assert me_without_header(victim)["tenant"]["id"] == world.b
    owner.call("members", "DELETE", f"/{victim.user_id}")  # leave the world as it was


def test_a_flood_of_invitations_cannot_hide_a_users_tenants(stack, world):
    """Appwrite lists 25 memberships by default: 30 pending invitations received *before* joining a tenant
    must not push that tenant out of what identity sees."""
    key = make_client(stack)
    victim_email = f"flooded-{unique_suffix()}@example.com"
    spammer = Users(key).create(ID.unique(), email=f"spam-{unique_suffix()}@example.com")
    as_spammer = Teams(make_client(stack, jwt=Users(key).create_jwt(spammer.id).jwt))
    for n in range(30):
        team = Teams(key).create(ID.unique(), f"Spam {n}")
        Teams(key).create_membership(team.id, ["owner"], user_id=spammer.id)
        as_spammer.create_membership(team.id, ["owner"], email=victim_email, url="http://localhost/accept")
    tenant_id, owner = create_tenant(stack, world.admin)
    victim = add_member(owner, "analyst", email=victim_email)
    me = me_without_header(victim)
    assert (me["tenant"]["id"], me["role"]) == (tenant_id, "analyst")
    assert len(me["invitations"]) == 30  # listed, and granting nothing
