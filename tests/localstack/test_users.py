"""The Users service of the local stack, through the SDK, as a server-side caller sees it."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.account import Account
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from local_appwrite import users as users_service
from tests.conftest import make_client


def tag() -> str:
    return uuid.uuid4().hex[:10]


def email(prefix: str = "user") -> str:
    return f"{prefix}.{tag()}@example.com"


def error_of(call, *args, **kwargs) -> AppwriteException:
    with pytest.raises(AppwriteException) as caught:
        call(*args, **kwargs)
    return caught.value


def session_client(stack, secret: str) -> Client:
    return Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id).set_session(secret)


# --- create / get ---------------------------------------------------------------------------------


def test_create_and_get_user(client):
    address = email("Alice").replace("alice", "ALICE")
    created = Users(client).create(ID.unique(), email=address, password="s3cret-pass", name="Alice")
    assert created.email == address.lower()
    assert created.name == "Alice" and created.status is True and created.labels == []
    assert created.hash == "scrypt" and created.hashoptions.type == "scrypt"
    assert created.password and "s3cret" not in created.password  # the hash, never the password
    assert created.passwordupdate and created.registration
    assert [t.providertype for t in created.targets] == ["email"]
    assert created.targets[0].identifier == address.lower()
    fetched = Users(client).get(created.id)
    assert fetched.id == created.id and fetched.email == created.email


def test_create_with_chosen_id_and_no_credentials(client):
    user_id = f"u-{tag()}"
    created = Users(client).create(user_id)
    assert created.id == user_id
    assert created.email == "" and created.phone == "" and created.password is None
    assert created.passwordupdate == ""


def test_create_with_phone(client):
    phone = "+5511" + str(uuid.uuid4().int)[:9]
    created = Users(client).create(ID.unique(), phone=phone)
    assert created.phone == phone
    assert [t.providertype for t in created.targets] == ["sms"]


def test_duplicate_email_or_id_is_409(client):
    address = email()
    first = Users(client).create(ID.unique(), email=address, password="password123")
    error = error_of(Users(client).create, ID.unique(), email=address.upper(), password="password123")
    assert (error.code, error.type) == (409, "user_already_exists")
    error = error_of(Users(client).create, first.id, email=email())
    assert (error.code, error.type) == (409, "user_already_exists")


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "short"}, "password"),
        ({"phone": "12345"}, "phone"),
        ({"name": "x" * 129}, "name"),
    ],
)
def test_invalid_params_are_400(client, kwargs, param):
    error = error_of(Users(client).create, ID.unique(), **kwargs)
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert f"`{param}`" in error.message


def test_invalid_user_id_is_400(client):
    error = error_of(Users(client).create, "-starts-with-hyphen")
    assert (error.code, error.type) == (400, "general_argument_invalid")


def test_get_unknown_user_is_404(client):
    error = error_of(Users(client).get, "nobody-" + tag())
    assert (error.code, error.type) == (404, "user_not_found")


def test_scopes_are_enforced(stack):
    key = stack.credentials.mint_ephemeral_key("fn", ["users.read"], 60, "exec-1")
    limited = make_client(stack, key=key)
    assert Users(limited).list(queries=[Query.limit(1)]).total >= 0
    error = error_of(Users(limited).create, ID.unique())
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_concurrent_creates_with_the_same_email_make_one_user(stack, client):
    address = email("race")

    def attempt(_: int) -> str:
        try:
            Users(make_client(stack)).create(ID.unique(), email=address, password="password123")
            return "created"
        except AppwriteException as error:
            return f"{error.code} {error.type}"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("created") == 1
    assert outcomes.count("409 user_already_exists") == 19
    assert Users(client).list(queries=[Query.equal("email", [address])]).total == 1


# --- list -----------------------------------------------------------------------------------------


@pytest.fixture
def trio(client):
    """Three users sharing a unique name word, created in order."""
    word = "trio" + tag()
    made = [
        Users(client).create(ID.unique(), email=email(f"{word}{i}"), name=f"{word} member{i}", password="password123")
        for i in range(3)
    ]
    Users(client).update_labels(made[1].id, ["admin", "vip"])
    return word, made


def test_list_with_search_param_and_queries(client, trio):
    word, made = trio
    ids = [u.id for u in made]
    found = Users(client).list(search=word)
    assert found.total == 3 and [u.id for u in found.users] == ids
    by_name = Users(client).list(queries=[Query.equal("name", [f"{word} member2"])])
    assert [u.id for u in by_name.users] == [ids[2]]
    by_email = Users(client).list(queries=[Query.equal("email", [made[0].email])])
    assert [u.id for u in by_email.users] == [ids[0]]
    admins = Users(client).list(queries=[Query.contains("labels", ["admin"]), Query.search("name", word)])
    assert [u.id for u in admins.users] == [ids[1]]
    newest_first = Users(client).list(queries=[Query.search("name", word), Query.order_desc("$createdAt")])
    assert [u.id for u in newest_first.users] == ids[::-1]
    starts = Users(client).list(queries=[Query.starts_with("name", word), Query.not_equal("$id", ids[0])])
    assert [u.id for u in starts.users] == ids[1:]


def test_list_pagination(client, trio):
    word, made = trio
    ids = [u.id for u in made]
    base = [Query.search("name", word)]
    page = Users(client).list(queries=[*base, Query.limit(2)])
    assert page.total == 3 and [u.id for u in page.users] == ids[:2]
    assert [u.id for u in Users(client).list(queries=[*base, Query.limit(2), Query.offset(2)]).users] == ids[2:]
    after = Users(client).list(queries=[*base, Query.cursor_after(ids[0])])
    assert [u.id for u in after.users] == ids[1:]
    before = Users(client).list(queries=[*base, Query.cursor_before(ids[2]), Query.limit(1)])
    assert [u.id for u in before.users] == [ids[1]]
    assert Users(client).list(queries=base, total=False).total == 0


def test_list_rejects_bad_queries(client):
    error = error_of(Users(client).list, queries=[Query.equal("password", ["x"])])
    assert (error.code, error.type) == (400, "general_query_invalid")
    error = error_of(Users(client).list, queries=[Query.equal("labels", ["admin"])])
    assert (error.code, error.type) == (400, "general_query_invalid")
    error = error_of(Users(client).list, queries=["not json"])
    assert (error.code, error.type) == (400, "general_query_invalid")
    error = error_of(Users(client).list, queries=[Query.cursor_after("missing-" + tag())])
    assert (error.code, error.type) == (400, "general_cursor_not_found")


# --- updates --------------------------------------------------------------------------------------


def test_update_labels(client):
    user = Users(client).create(ID.unique(), email=email())
    updated = Users(client).update_labels(user.id, ["admin", "Tier2", "admin"])
    assert updated.labels == ["admin", "Tier2"]
    assert Users(client).get(user.id).labels == ["admin", "Tier2"]
    for bad in (["has-hyphen"], ["x" * 37], [""]):
        error = error_of(Users(client).update_labels, user.id, bad)
        assert (error.code, error.type) == (400, "general_argument_invalid")
    assert Users(client).update_labels(user.id, []).labels == []
    error = error_of(Users(client).update_labels, "nobody-" + tag(), ["admin"])
    assert (error.code, error.type) == (404, "user_not_found")


def test_update_name_email_phone_status_and_verification(client):
    user = Users(client).create(ID.unique(), email=email(), name="Before")
    assert Users(client).update_name(user.id, "After").name == "After"
    new_address = email("moved")
    moved = Users(client).update_email(user.id, new_address)
    assert moved.email == new_address and moved.targets[0].identifier == new_address
    other = Users(client).create(ID.unique(), email=email())
    error = error_of(Users(client).update_email, user.id, other.email)
    assert (error.code, error.type) == (409, "user_email_already_exists")
    phone = "+5521" + str(uuid.uuid4().int)[:9]
    assert Users(client).update_phone(user.id, phone).phone == phone
    assert Users(client).update_email_verification(user.id, True).emailverification is True
    assert Users(client).update_phone_verification(user.id, True).phoneverification is True
    assert Users(client).update_status(user.id, False).status is False
    assert Users(client).get(user.id).status is False


def test_update_password_then_sign_in(stack, client):
    address = email()
    user = Users(client).create(ID.unique(), email=address, password="first-password")
    updated = Users(client).update_password(user.id, "second-password")
    assert updated.password != user.password
    guest = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    error = error_of(Account(guest).create_email_password_session, address, "first-password")
    assert (error.code, error.type) == (401, "user_invalid_credentials")
    assert Account(guest).create_email_password_session(address, "second-password").userid == user.id
    error = error_of(Users(client).update_password, user.id, "short")
    assert (error.code, error.type) == (400, "general_argument_invalid")


def test_prefs(client):
    user = Users(client).create(ID.unique())
    assert Users(client).get_prefs(user.id).data == {}
    assert Users(client).update_prefs(user.id, {"theme": "dark", "n": 2}).data == {"theme": "dark", "n": 2}
    assert Users(client).get_prefs(user.id).data == {"theme": "dark", "n": 2}
    assert Users(client).get(user.id).prefs.data == {"theme": "dark", "n": 2}


# --- delete, memberships --------------------------------------------------------------------------


def test_delete_user_removes_memberships_and_sessions(client):
    user = Users(client).create(ID.unique(), email=email(), password="password123")
    team = Teams(client).create(ID.unique(), "Doomed membership")
    Teams(client).create_membership(team.id, ["member"], user_id=user.id)
    Users(client).create_session(user.id)
    assert Users(client).delete(user.id) == b""
    assert error_of(Users(client).get, user.id).type == "user_not_found"
    assert Teams(client).list_memberships(team.id).total == 0
    assert Teams(client).get(team.id).total == 0
    assert error_of(Users(client).delete, user.id).code == 404


def test_list_memberships_of_a_user(client):
    user = Users(client).create(ID.unique(), email=email(), name="Member")
    teams = [Teams(client).create(ID.unique(), f"Team {i}") for i in range(2)]
    Teams(client).create_membership(teams[0].id, ["owner"], user_id=user.id)
    Teams(client).create_membership(teams[1].id, ["viewer", "billing"], user_id=user.id)
    listed = Users(client).list_memberships(user.id)
    assert listed.total == 2
    assert [(m.teamid, m.teamname, m.roles) for m in listed.memberships] == [
        (teams[0].id, "Team 0", ["owner"]),
        (teams[1].id, "Team 1", ["viewer", "billing"]),
    ]
    assert all(m.username == "Member" and m.confirm for m in listed.memberships)
    owners = Users(client).list_memberships(user.id, queries=[Query.contains("roles", ["owner"])])
    assert [m.teamid for m in owners.memberships] == [teams[0].id]
    assert error_of(Users(client).list_memberships, "nobody-" + tag()).type == "user_not_found"


# --- JWTs and sessions ----------------------------------------------------------------------------


def test_jwt_round_trip_to_account(stack, client):
    user = Users(client).create(ID.unique(), email=email(), password="password123", name="Jay")
    token = Users(client).create_jwt(user.id).jwt
    me = Account(make_client(stack, jwt=token)).get()
    assert (me.id, me.name, me.email) == (user.id, "Jay", user.email)
    assert me.password is None and me.hash is None  # the Account view hides the hash
    short = Users(client).create_jwt(user.id, duration=60).jwt
    assert Account(make_client(stack, jwt=short)).get().id == user.id


def test_jwt_params_are_validated(client):
    user = Users(client).create(ID.unique())
    error = error_of(Users(client).create_jwt, user.id, duration=3601)
    assert (error.code, error.type) == (400, "general_argument_invalid")
    error = error_of(Users(client).create_jwt, user.id, session_id="missing")
    assert (error.code, error.type) == (404, "user_session_not_found")
    error = error_of(Users(client).create_jwt, "nobody-" + tag())
    assert (error.code, error.type) == (404, "user_not_found")


def test_jwt_tied_to_a_session_dies_with_it(stack, client):
    user = Users(client).create(ID.unique(), email=email())
    session = Users(client).create_session(user.id)
    token = Users(client).create_jwt(user.id, session_id=session.id).jwt
    assert Account(make_client(stack, jwt=token)).get().id == user.id
    recent = Users(client).create_jwt(user.id, session_id="recent").jwt
    assert Account(make_client(stack, jwt=recent)).get().id == user.id
    Users(client).delete_session(user.id, session.id)
    error = error_of(Account(make_client(stack, jwt=token)).get)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_jwt_of_a_deleted_user_is_a_guest(stack, client):
    user = Users(client).create(ID.unique())
    token = Users(client).create_jwt(user.id).jwt
    Users(client).delete(user.id)
    error = error_of(Account(make_client(stack, jwt=token)).get)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_server_sessions(stack, client):
    user = Users(client).create(ID.unique(), email=email())
    first = Users(client).create_session(user.id)
    second = Users(client).create_session(user.id)
    assert first.secret and first.userid == user.id
    listed = Users(client).list_sessions(user.id)
    assert listed.total == 2 and [s.id for s in listed.sessions] == [first.id, second.id]
    assert all(s.secret == "" for s in listed.sessions)
    assert Account(session_client(stack, first.secret)).get().id == user.id
    Users(client).delete_session(user.id, first.id)
    assert error_of(Account(session_client(stack, first.secret)).get).code == 401
    assert error_of(Users(client).delete_session, user.id, first.id).type == "user_session_not_found"
    Users(client).delete_sessions(user.id)
    assert Users(client).list_sessions(user.id).total == 0
    assert error_of(Account(session_client(stack, second.secret)).get).code == 401


# --- helpers other services import ----------------------------------------------------------------


def test_roles_of(stack, client):
    user = Users(client).create(ID.unique(), email=email())
    Users(client).update_labels(user.id, ["admin"])
    team = Teams(client).create(ID.unique(), "Roles")
    membership = Teams(client).create_membership(team.id, ["owner", "billing"], user_id=user.id)
    roles = users_service.roles_of(stack, user.id)
    assert roles == {
        "any", "users", "users/unverified", f"user:{user.id}", f"user:{user.id}/unverified", "label:admin",
        f"team:{team.id}", f"team:{team.id}/owner", f"team:{team.id}/billing", f"member:{membership.id}",
    }
    Users(client).update_email_verification(user.id, True)
    assert {"users/verified", f"user:{user.id}/verified"} <= users_service.roles_of(stack, user.id)
    Teams(client).delete_membership(team.id, membership.id)
    assert not any(r.startswith(("team:", "member:")) for r in users_service.roles_of(stack, user.id))
    assert users_service.roles_of(stack, "nobody-" + tag()) == {"any", "guests"}


def test_get_user_json(stack, client):
    user = Users(client).create(ID.unique(), email=email(), name="Json")
    found = users_service.get_user_json(stack, user.id)
    assert found is not None and found["$id"] == user.id and found["name"] == "Json"
    assert not any(key.startswith("_") for key in found)
    assert users_service.get_user_json(stack, "nobody-" + tag()) is None


def test_create_publishes_event(stack, client):
    seen = []
    stack.events.subscribe(lambda event: seen.append(event))
    user = Users(client).create(ID.unique(), email=email())
    Users(client).update_labels(user.id, ["x1"])
    deadline = time.time() + 5
    while time.time() < deadline and len([e for e in seen if user.id in e.names[0]]) < 2:
        time.sleep(0.02)
    mine = [e for e in seen if user.id in e.names[0]]
    names = sorted(e.names[0] for e in mine)
    assert names == [f"users.{user.id}.create", f"users.{user.id}.update.labels"]
    assert next(e for e in mine if e.names[0].endswith(".create")).payload["$id"] == user.id
