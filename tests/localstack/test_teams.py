"""The Teams service of the local stack: teams and memberships, as Bigtech's tenants use them."""

from __future__ import annotations

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from tests.conftest import make_client


def tag() -> str:
    return uuid.uuid4().hex[:10]


def email(prefix: str = "member") -> str:
    return f"{prefix}.{tag()}@example.com"


def error_of(call, *args, **kwargs) -> AppwriteException:
    with pytest.raises(AppwriteException) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.fixture
def team(client):
    return Teams(client).create(ID.unique(), "Tenant " + tag())


@pytest.fixture
def user(client):
    return Users(client).create(ID.unique(), email=email(), name="Maria Silva")


# --- teams ----------------------------------------------------------------------------------------


def test_create_get_update_delete_team(client):
    team_id = "tenant-" + tag()
    created = Teams(client).create(team_id, "Acme", roles=["owner"])
    assert (created.id, created.name, created.total, created.prefs.data) == (team_id, "Acme", 0, {})
    assert Teams(client).get(team_id).name == "Acme"
    renamed = Teams(client).update_name(team_id, "Acme Ltda")
    assert renamed.name == "Acme Ltda" and renamed.updatedat >= created.updatedat
    assert Teams(client).delete(team_id) == b""
    error = error_of(Teams(client).get, team_id)
    assert (error.code, error.type) == (404, "team_not_found")


def test_team_errors(client, team):
    error = error_of(Teams(client).create, team.id, "Again")
    assert (error.code, error.type) == (409, "team_already_exists")
    error = error_of(Teams(client).create, "_bad id", "Bad")
    assert (error.code, error.type) == (400, "general_argument_invalid")
    for call in (Teams(client).get, Teams(client).delete, Teams(client).list_memberships):
        assert error_of(call, "missing-" + tag()).type == "team_not_found"
    assert error_of(Teams(client).update_name, "missing-" + tag(), "x").type == "team_not_found"


def test_list_teams_with_search_and_queries(client):
    word = "guild" + tag()
    made = [Teams(client).create(ID.unique(), f"{word} {i}") for i in range(3)]
    ids = [t.id for t in made]
    listed = Teams(client).list(search=word)
    assert listed.total == 3 and [t.id for t in listed.teams] == ids
    assert [t.id for t in Teams(client).list(queries=[Query.equal("name", [f"{word} 1"])]).teams] == [ids[1]]
    newest = Teams(client).list(queries=[Query.search("name", word), Query.order_desc("$createdAt"), Query.limit(2)])
    assert newest.total == 3 and [t.id for t in newest.teams] == [ids[2], ids[1]]
    assert Teams(client).list(search=word, total=False).total == 0
    error = error_of(Teams(client).list, queries=[Query.equal("owner", ["x"])])
    assert (error.code, error.type) == (400, "general_query_invalid")


def test_team_prefs(client, team):
    assert Teams(client).get_prefs(team.id).data == {}
    assert Teams(client).update_prefs(team.id, {"plan": "pro"}).data == {"plan": "pro"}
    assert Teams(client).get(team.id).prefs.data == {"plan": "pro"}


def test_teams_scopes(stack):
    key = stack.credentials.mint_ephemeral_key("fn", ["teams.read"], 60, "exec-teams")
    limited = make_client(stack, key=key)
    assert Teams(limited).list(queries=[Query.limit(1)]).total >= 0
    error = error_of(Teams(limited).create, ID.unique(), "No")
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


# --- memberships ----------------------------------------------------------------------------------


def test_membership_with_a_key_is_confirmed_at_once(client, team, user):
    membership = Teams(client).create_membership(team.id, ["owner"], user_id=user.id)
    assert membership.confirm is True and membership.joined and membership.invited
    assert (membership.userid, membership.username, membership.useremail) == (user.id, "Maria Silva", user.email)
    assert (membership.teamid, membership.teamname, membership.roles) == (team.id, team.name, ["owner"])
    assert membership.mfa is False
    assert Teams(client).get(team.id).total == 1
    fetched = Teams(client).get_membership(team.id, membership.id)
    assert fetched.id == membership.id and fetched.roles == ["owner"]


def test_membership_by_email(client, team, user):
    existing = Teams(client).create_membership(team.id, ["admin"], email=user.email.upper())
    assert existing.userid == user.id
    address = email("invitee")
    invited = Teams(client).create_membership(team.id, ["viewer"], email=address, name="Novo Membro")
    created_user = Users(client).get(invited.userid)
    assert (created_user.email, created_user.name) == (address, "Novo Membro")
    unnamed = Teams(client).create_membership(team.id, ["viewer"], email=email("noname"))
    assert Users(client).get(unnamed.userid).name == unnamed.useremail  # Appwrite names it after the e-mail
    chosen = "m-" + tag()
    assert Teams(client).create_membership(team.id, ["viewer"], email=email(), membership_id=chosen).id == chosen
    assert Teams(client).get(team.id).total == 4


def test_membership_errors(client, team, user):
    Teams(client).create_membership(team.id, ["owner"], user_id=user.id)
    error = error_of(Teams(client).create_membership, team.id, ["admin"], user_id=user.id)
    assert (error.code, error.type) == (409, "membership_already_confirmed")
    error = error_of(Teams(client).create_membership, team.id, ["admin"], email=user.email)
    assert (error.code, error.type) == (409, "membership_already_confirmed")
    error = error_of(Teams(client).create_membership, team.id, ["admin"], user_id="nobody-" + tag())
    assert (error.code, error.type) == (404, "user_not_found")
    error = error_of(Teams(client).create_membership, team.id, ["admin"], user_id=user.id, email=email())
    assert (error.code, error.type) == (409, "user_already_exists")
    error = error_of(Teams(client).create_membership, team.id, ["admin"])
    assert (error.code, error.type) == (400, "general_argument_invalid")
    error = error_of(Teams(client).create_membership, team.id, ["bad role!"], email=email())
    assert (error.code, error.type) == (400, "general_argument_invalid")
    error = error_of(Teams(client).create_membership, "missing-" + tag(), ["admin"], user_id=user.id)
    assert (error.code, error.type) == (404, "team_not_found")
    error = error_of(Teams(client).get_membership, team.id, "missing-" + tag())
    assert (error.code, error.type) == (404, "membership_not_found")


def test_membership_of_another_team_is_not_found(client, team, user):
    other = Teams(client).create(ID.unique(), "Other")
    membership = Teams(client).create_membership(other.id, ["owner"], user_id=user.id)
    for call in (Teams(client).get_membership, Teams(client).delete_membership):
        assert error_of(call, team.id, membership.id).type == "membership_not_found"
    assert error_of(Teams(client).update_membership, team.id, membership.id, ["x"]).type == "membership_not_found"


def test_list_memberships_from_both_sides(client, team):
    members = [Users(client).create(ID.unique(), email=email(), name=f"Pessoa {i}") for i in range(3)]
    for i, member in enumerate(members):
        Teams(client).create_membership(team.id, ["owner"] if i == 0 else ["viewer"], user_id=member.id)
    listed = Teams(client).list_memberships(team.id)
    assert listed.total == 3 and [m.userid for m in listed.memberships] == [m.id for m in members]
    owners = Teams(client).list_memberships(team.id, queries=[Query.contains("roles", ["owner"])])
    assert [m.userid for m in owners.memberships] == [members[0].id]
    by_user = Teams(client).list_memberships(team.id, queries=[Query.equal("userId", [members[2].id])])
    assert [m.userid for m in by_user.memberships] == [members[2].id]
    assert [m.userid for m in Teams(client).list_memberships(team.id, search=members[1].id).memberships] == [
        members[1].id
    ]
    page = Teams(client).list_memberships(team.id, queries=[Query.limit(1), Query.offset(1)])
    assert page.total == 3 and [m.userid for m in page.memberships] == [members[1].id]
    seen_from_user = Users(client).list_memberships(members[1].id).memberships
    assert [(m.teamid, m.roles) for m in seen_from_user] == [(team.id, ["viewer"])]


def test_membership_names_follow_the_user_and_team(client, team, user):
    membership = Teams(client).create_membership(team.id, ["owner"], user_id=user.id)
    Users(client).update_name(user.id, "Renamed Person")
    Teams(client).update_name(team.id, "Renamed Team")
    fetched = Teams(client).get_membership(team.id, membership.id)
    assert (fetched.username, fetched.teamname) == ("Renamed Person", "Renamed Team")


def test_update_and_delete_membership(stack, client, team, user):
    from local_appwrite.users import roles_of

    membership = Teams(client).create_membership(team.id, ["viewer"], user_id=user.id)
    updated = Teams(client).update_membership(team.id, membership.id, ["admin", "billing"])
    assert updated.roles == ["admin", "billing"]
    assert {f"team:{team.id}/admin", f"team:{team.id}/billing"} <= roles_of(stack, user.id)
    assert f"team:{team.id}/viewer" not in roles_of(stack, user.id)
    error = error_of(Teams(client).update_membership, team.id, membership.id, ["no spaces"])
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert Teams(client).delete_membership(team.id, membership.id) == b""
    assert Teams(client).get(team.id).total == 0
    assert error_of(Teams(client).get_membership, team.id, membership.id).type == "membership_not_found"
    assert Users(client).get(user.id).id == user.id  # the user stays


def test_delete_team_removes_its_memberships(client, team, user):
    Teams(client).create_membership(team.id, ["owner"], user_id=user.id)
    Teams(client).delete(team.id)
    assert Users(client).list_memberships(user.id).total == 0


def test_concurrent_membership_creates_make_one_membership(stack, client, team):
    address = email("race")

    def attempt(_: int) -> str:
        try:
            Teams(make_client(stack)).create_membership(team.id, ["viewer"], email=address)
            return "created"
        except AppwriteException as error:
            return f"{error.code} {error.type}"

    with ThreadPoolExecutor(max_workers=10) as pool:
        outcomes = list(pool.map(attempt, range(10)))
    assert outcomes.count("created") == 1
    assert outcomes.count("409 membership_already_confirmed") == 9
    assert Users(client).list(queries=[Query.equal("email", [address])]).total == 1
    assert Teams(client).get(team.id).total == 1


def test_team_and_membership_events(stack, client, user):
    seen = []
    stack.events.subscribe(lambda event: seen.append(event.names[0]))
    team = Teams(client).create(ID.unique(), "Evented")
    membership = Teams(client).create_membership(team.id, ["owner"], user_id=user.id)
    wanted = {f"teams.{team.id}.create", f"teams.{team.id}.memberships.{membership.id}.create"}
    deadline = time.time() + 5
    while time.time() < deadline and not wanted <= set(seen):
        time.sleep(0.02)
    assert wanted <= set(seen)


# --- what a signed-in user may do on their own (JWT or session) -------------------------------------


def as_user(stack, user_id: str):
    return make_client(stack, jwt=Users(make_client(stack)).create_jwt(user_id).jwt)


def guest(stack):
    return Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)


def last_invitation(stack, address: str) -> dict:
    return make_client(stack).call("get", "/local/invitations/last", {}, {"email": address})


@pytest.fixture
def owned(stack, client, user):
    """A team whose owner is ``user`` (made by the key) and a user JWT client for them."""
    team = Teams(client).create(ID.unique(), "Owned " + tag())
    Teams(client).create_membership(team.id, ["owner"], user_id=user.id)
    return team, Teams(as_user(stack, user.id))


def test_a_user_lists_only_the_teams_they_joined(stack, client, user, owned):
    team, mine = owned
    other = Teams(client).create(ID.unique(), "Other " + tag())
    assert [t.id for t in mine.list().teams] == [team.id]
    assert mine.get(team.id).id == team.id
    assert [m.userid for m in mine.list_memberships(team.id).memberships] == [user.id]
    for call in (mine.get, mine.list_memberships, mine.get_prefs):
        assert error_of(call, other.id).type == "team_not_found"  # not a member: as if it did not exist
    assert error_of(mine.create, ID.unique(), "Mine").code == 401  # creating teams stays with the key locally


def test_an_owner_invites_and_the_membership_waits_for_consent(stack, client, owned):
    team, mine = owned
    address = email("invitee")
    error = error_of(mine.create_membership, team.id, ["viewer"], email=address)
    assert (error.code, error.message) == (400, "URL is required")
    error = error_of(mine.create_membership, team.id, ["viewer"], email=address, url="https://evil.example/x")
    assert (error.code, error.type) == (400, "general_argument_invalid")  # not a registered web platform
    invited = mine.create_membership(team.id, ["viewer"], email=address, url="http://localhost:3000/accept?x=1")
    assert invited.confirm is False and invited.joined == "" and Teams(client).get(team.id).total == 1
    assert "team:" + team.id not in str(Users(client).list_memberships(invited.userid).memberships[0].roles)
    mail = last_invitation(stack, address)
    assert mail["url"].startswith("http://localhost:3000/accept?x=1&membershipId=" + invited.id)
    assert (mail["userId"], mail["teamId"], mail["teamName"]) == (invited.userid, team.id, team.name)
    invitee = Users(client).get(invited.userid)
    assert invitee.passwordupdate == "" and invitee.emailverification is False

    refused = error_of(Teams(guest(stack)).update_membership_status, team.id, invited.id, invited.userid, "x" * 64)
    assert (refused.code, refused.type) == (401, "team_invalid_secret")
    accept = Teams(guest(stack)).update_membership_status
    refused = error_of(accept, team.id, invited.id, "someone-else", mail["secret"])
    assert (refused.code, refused.type) == (401, "team_invite_mismatch")
    accepted = Teams(guest(stack)).update_membership_status(team.id, invited.id, invited.userid, mail["secret"])
    assert accepted.confirm is True and accepted.joined
    assert Users(client).get(invited.userid).emailverification is True
    assert Teams(client).get(team.id).total == 2
    again = error_of(Teams(guest(stack)).update_membership_status, team.id, invited.id, invited.userid, mail["secret"])
    assert (again.code, again.type) == (409, "membership_already_confirmed")


def test_accepting_signs_the_invitee_in_with_a_cookie(stack, owned):
    team, mine = owned
    address = email("cookie")
    mine.create_membership(team.id, ["viewer"], email=address, url="http://localhost/accept")
    mail = last_invitation(stack, address)
    response = requests.patch(
        f"{stack.endpoint}/teams/{team.id}/memberships/{mail['membershipId']}/status",
        json={"userId": mail["userId"], "secret": mail["secret"]},
        headers={"x-appwrite-project": stack.settings.project_id},
    )
    assert response.status_code == 200 and "secret" not in response.json()
    cookie = f"a_session_{stack.settings.project_id}"
    session = json.loads(response.headers["x-fallback-cookies"])[cookie]
    assert response.cookies.get(cookie) == session
    me = Account(guest(stack).set_session(session))
    assert me.get().id == mail["userId"]
    me.update_password("first-password-1")  # an invited user has none yet: no old password needed
    assert error_of(me.update_password, "second-password-2").type == "user_invalid_credentials"


def test_only_owners_invite_change_roles_or_remove_others(stack, client, owned):
    team, _ = owned
    viewer = Users(client).create(ID.unique(), email=email("viewer"))
    membership = Teams(client).create_membership(team.id, ["viewer"], user_id=viewer.id)
    theirs = Teams(as_user(stack, viewer.id))
    error = error_of(theirs.create_membership, team.id, ["owner"], email=email(), url="http://localhost/a")
    assert (error.code, error.type) == (401, "user_unauthorized")
    error = error_of(theirs.update_membership, team.id, membership.id, ["owner"])
    assert (error.code, error.type) == (401, "user_unauthorized")
    owner_membership = Teams(client).list_memberships(team.id, [Query.contains("roles", ["owner"])]).memberships[0]
    assert error_of(theirs.delete_membership, team.id, owner_membership.id).type == "user_unauthorized"
    theirs.delete_membership(team.id, membership.id)  # leaving is always allowed
    assert [t.id for t in theirs.list().teams] == []
