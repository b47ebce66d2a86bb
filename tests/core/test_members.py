"""The members function: adding by e-mail is an invitation the invitee accepts (same answer whether or
not the address has an account), list, revoke, change role, remove; the last owner stays; admins
cannot make owners; every change is audited with its event."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from tests.conftest import make_client
from tests.support.actors import (
    accept_invitation,
    actor_for,
    add_member,
    create_tenant,
    create_user,
    read_invitation,
    unique_suffix,
)


@pytest.fixture
def tenant(stack, world):
    """A fresh tenant per test: these tests change its members."""
    return create_tenant(stack, world.admin)


def member_emails(owner):
    return {m["email"] for m in owner.call("members", "GET", "/?limit=100").body["items"]}


def error_of(call, *args, **kwargs) -> AppwriteException:
    with pytest.raises(AppwriteException) as caught:
        call(*args, **kwargs)
    return caught.value


def outbox_types(stack, tenant_id):
    rows = TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", "outbox", [Query.limit(100)]).rows
    return [row.data["type"] for row in rows]


def test_adding_invites_and_grants_nothing_until_the_invitee_accepts(stack, tenant):
    tenant_id, owner = tenant
    email = f"Fresh-{unique_suffix()}@Example.com"
    result = owner.call("members", "POST", "/", {"email": email, "name": "Fresh", "role": "analyst"})
    assert result.status == 201, result
    invitation = result.body["invitation"]
    assert set(result.body) == {"invitation", "audit_id"} and result.body["audit_id"]
    assert set(invitation) == {"id", "email", "role", "status", "invited_at"}  # no user id, no account name
    assert (invitation["email"], invitation["role"], invitation["status"]) == (email.lower(), "analyst", "pending")
    assert email.lower() not in member_emails(owner)
    pending = owner.call("members", "GET", "/invitations").body["items"]
    assert [i["id"] for i in pending] == [invitation["id"]]
    trail = owner.call("audit", "GET", "/?action=members.add").body["items"]
    assert trail[0]["id"] == result.body["audit_id"] and trail[0]["details"] == {
        "email": email.lower(), "role": "analyst", "actor_name": "Owner"}  # the inviting owner, by name too
    assert trail[0]["actor_name"] == "Owner"
    assert "member.invited" in outbox_types(stack, tenant_id)

    mail = read_invitation(stack, email)  # the e-mail's link: where the frontend's accept page reads them
    invitee = actor_for(stack, mail["userId"], email)
    me = invitee.call("auth", "GET", "/me").body
    assert me["tenant"] is None and me["role"] is None
    assert me["invitations"] == [{"tenant_id": tenant_id, "tenant_name": f"Tenant {tenant_id}", "role": "analyst",
                                  "invited_at": invitation["invited_at"]}]
    assert invitee.call("auth", "GET", "/me", tenant=tenant_id).error_code == "not_a_member"
    assert owner.call("members", "PATCH", f"/{mail['userId']}", {"role": "admin"}).error_code == "member_not_found"

    again = owner.call("members", "POST", "/", {"email": email, "role": "viewer"})  # sent again, new role
    assert again.status == 201 and again.body["invitation"]["id"] == invitation["id"]
    assert owner.call("members", "GET", "/invitations").body["items"][0]["role"] == "viewer"

    user_id = accept_invitation(stack, email)
    assert owner.call("members", "GET", "/invitations").body["items"] == []
    assert invitee.call("auth", "GET", "/me").body["role"] == "viewer"
    assert email.lower() in member_emails(owner)
    repeat = owner.call("members", "POST", "/", {"email": email, "role": "viewer"})
    assert (repeat.status, repeat.error_code) == (409, "already_member")
    assert user_id == mail["userId"]


def test_a_new_user_accepts_in_the_browser_and_sets_a_password(stack, tenant):
    """The Web SDK flow, over plain HTTP as a browser sends it: accept with the link's parameters (no
    credential), keep the session cookie Appwrite sets, set a password, then sign in with it."""
    tenant_id, owner = tenant
    email = f"newcomer-{unique_suffix()}@example.com"
    assert owner.call("members", "POST", "/", {"email": email, "role": "analyst"}).status == 201
    guest = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    error = error_of(Account(guest).create_email_password_session, email, "any-password-1")
    assert error.type == "user_invalid_credentials"  # the invitation made no usable account

    mail = read_invitation(stack, email)
    project = {"x-appwrite-project": stack.settings.project_id, "origin": "http://localhost:3000"}
    path = f"{stack.endpoint}/teams/{mail['teamId']}/memberships/{mail['membershipId']}/status"
    wrong = requests.patch(path, json={"userId": mail["userId"], "secret": "0" * 64}, headers=project)
    assert (wrong.status_code, wrong.json()["type"]) == (401, "team_invalid_secret")
    accepted = requests.patch(path, json={"userId": mail["userId"], "secret": mail["secret"]}, headers=project)
    assert accepted.status_code == 200 and accepted.json()["confirm"] is True
    assert accepted.headers["access-control-allow-origin"] == "http://localhost:3000"
    fallback = accepted.headers["x-fallback-cookies"]  # what the Web SDK keeps and sends back
    browser = {**project, "x-fallback-cookies": fallback}
    changed = requests.patch(f"{stack.endpoint}/account/password", json={"password": "a-new-password-9"},
                             headers=browser)
    assert changed.status_code == 200, changed.text
    replay = requests.patch(path, json={"userId": mail["userId"], "secret": mail["secret"]}, headers=project)
    assert (replay.status_code, replay.json()["type"]) == (409, "membership_already_confirmed")

    session = Account(make_client(stack)).create_email_password_session(email, "a-new-password-9")
    assert session.userid == mail["userId"]
    assert Users(make_client(stack)).get(mail["userId"]).emailverification is True
    member = actor_for(stack, mail["userId"], email)
    assert member.call("auth", "GET", "/me").body["tenant"]["id"] == tenant_id


def test_an_accepted_invitation_is_audited_once_as_member_added(stack, tenant):
    """Appwrite's ``teams.*.memberships.*.update.status`` event runs the members function, which records
    the join (read back with its key, never twice) in the tenant's audit trail and outbox."""
    tenant_id, owner = tenant
    joiner = add_member(owner, "analyst")
    deadline = time.monotonic() + 20
    while "member.added" not in outbox_types(stack, tenant_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert outbox_types(stack, tenant_id).count("member.added") == 1
    joins = owner.call("audit", "GET", "/?action=members.join").body["items"]
    assert [(j["actor"], j["details"]["role"]) for j in joins] == [(joiner.user_id, "analyst")]


def test_the_answer_is_the_same_for_existing_and_unknown_addresses(stack, tenant):
    _, owner = tenant
    existing = create_user(stack)
    unknown = f"nobody-{unique_suffix()}@example.com"
    answers = [owner.call("members", "POST", "/", {"email": address, "role": "viewer"})
               for address in (existing.email, unknown)]
    assert [a.status for a in answers] == [201, 201]
    assert [sorted(a.body) for a in answers] == [["audit_id", "invitation"]] * 2
    assert [sorted(a.body["invitation"]) for a in answers] == [["email", "id", "invited_at", "role", "status"]] * 2
    assert "user_created" not in answers[0].raw and existing.user_id not in answers[0].raw
    assert [a.body["invitation"]["email"] for a in answers] == [existing.email, unknown]
    # the existing user's account is untouched: same password, no new tenant, still signs in
    session = Account(make_client(stack)).create_email_password_session(existing.email, "password-123")
    assert session.userid == existing.user_id
    assert existing.call("auth", "GET", "/me").body["tenant"] is None
    assert Users(make_client(stack)).list([Query.equal("email", [existing.email])]).total == 1


def test_invitations_can_be_listed_and_revoked(stack, tenant):
    tenant_id, owner = tenant
    admin = add_member(owner, "admin")
    email = f"revoked-{unique_suffix()}@example.com"
    invitation = admin.call("members", "POST", "/", {"email": email, "role": "viewer"}).body["invitation"]
    owner_invite = owner.call("members", "POST", "/", {"email": f"o-{unique_suffix()}@example.com",
                                                       "role": "owner"}).body["invitation"]
    assert admin.call("members", "DELETE", f"/invitations/{owner_invite['id']}").error_code == "cannot_assign_owner"
    revoked = admin.call("members", "DELETE", f"/invitations/{invitation['id']}")
    assert revoked.status == 200 and revoked.body["audit_id"] and revoked.body["invitation"]["email"] == email
    assert [i["id"] for i in owner.call("members", "GET", "/invitations").body["items"]] == [owner_invite["id"]]
    again = admin.call("members", "DELETE", f"/invitations/{invitation['id']}")
    assert (again.status, again.error_code) == (404, "invitation_not_found")
    members = owner.call("members", "GET", "/").body["items"]
    accepted_id = next(m for m in Teams(make_client(stack)).list_memberships(tenant_id).memberships
                       if m.userid == admin.user_id).id
    assert owner.call("members", "DELETE", f"/invitations/{accepted_id}").error_code == "invitation_not_found"
    assert admin.user_id in {m["id"] for m in members}
    error = error_of(accept_invitation, stack, email)  # the revoked link no longer works
    assert error.code == 404
    assert "member.invitation_revoked" in outbox_types(stack, tenant_id)


def test_list_paginates(tenant):
    _, owner = tenant
    for _ in range(3):
        add_member(owner, "viewer")
    first = owner.call("members", "GET", "/?limit=2").body
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = owner.call("members", "GET", f"/?limit=2&cursor={first['next_cursor']}").body
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    assert {m["id"] for m in first["items"]}.isdisjoint({m["id"] for m in second["items"]})
    counted = owner.call("members", "GET", "/?limit=2&total=true").body  # the inviter's membership is no member
    assert counted["total"] == 4 and "total" not in first


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
    assert any("owner" in m.roles and "bigtech-inviter" not in m.roles for m in memberships)
