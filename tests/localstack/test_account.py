"""The Account service: a signed-in user's own view, e-mail/password sessions and JWTs."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.account import Account
from appwrite.services.users import Users

from local_appwrite import LocalAppwrite, StackSettings
from tests.conftest import free_port, make_client

PASSWORD = "correct horse battery"


def email(prefix: str = "login") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.com"


def error_of(call, *args, **kwargs) -> AppwriteException:
    with pytest.raises(AppwriteException) as caught:
        call(*args, **kwargs)
    return caught.value


def guest(stack) -> Client:
    return Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)


def server(stack) -> Client:
    """A server-side app (e.g. a Next.js route): it signs users in with its API key, which returns the secret."""
    return make_client(stack)


def with_session(stack, secret: str) -> Client:
    return guest(stack).set_session(secret)


def json_call(client: Client, method: str, path: str, params: dict | None = None):
    return client.call(method, path, {"content-type": "application/json"}, params or {})


@pytest.fixture
def member(client):
    address = email()
    return Users(client).create(ID.unique(), email=address, password=PASSWORD, name="Login User")


# --- sessions -------------------------------------------------------------------------------------


def test_email_password_session_signs_in(stack, member):
    """The documented server-side flow: with an API key the session's secret is returned, and the server
    hands it back as ``x-appwrite-session`` (``Client.set_session``) or sets it as the user's cookie."""
    session = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    assert session.userid == member.id and session.provider == "email"
    assert session.current is True and session.secret and session.expire > session.createdat
    me = Account(with_session(stack, session.secret)).get()
    assert (me.id, me.email, me.name) == (member.id, member.email, "Login User")
    assert me.password is None and me.accessedat


def test_a_client_side_session_does_not_hand_back_its_secret(stack, member):
    """Without a key (a browser, a mobile app) Appwrite blanks ``secret``: only the cookie carries it."""
    session = Account(guest(stack)).create_email_password_session(member.email, PASSWORD)
    assert session.userid == member.id and session.secret == ""
    listed = Account(with_session(stack, Account(server(stack)).create_email_password_session(
        member.email, PASSWORD).secret)).list_sessions()
    assert all(s.secret == "" for s in listed.sessions)


def test_session_secret_via_web_sdk_carriers(stack, member):
    response = requests.post(
        stack.endpoint + "/account/sessions/email",
        json={"email": member.email, "password": PASSWORD},
        headers={"x-appwrite-project": stack.settings.project_id},
    )
    assert response.status_code == 201
    cookie_name = f"a_session_{stack.settings.project_id}"
    fallback = json.loads(response.headers["x-fallback-cookies"])
    secret = fallback[cookie_name]
    assert secret and response.json()["secret"] == ""  # the body keeps it for API-key callers only
    assert response.cookies.get(cookie_name) == secret
    by_fallback = requests.get(
        stack.endpoint + "/account",
        headers={"x-appwrite-project": stack.settings.project_id, "x-fallback-cookies": json.dumps(fallback)},
    )
    assert by_fallback.status_code == 200 and by_fallback.json()["$id"] == member.id
    by_cookie = requests.get(
        stack.endpoint + "/account",
        headers={"x-appwrite-project": stack.settings.project_id},
        cookies={cookie_name: secret},
    )
    assert by_cookie.status_code == 200 and by_cookie.json()["$id"] == member.id


def test_wrong_credentials_are_401(stack, member):
    account = Account(guest(stack))
    for address, password in ((member.email, "wrong password"), (email("unknown"), PASSWORD)):
        error = error_of(account.create_email_password_session, address, password)
        assert (error.code, error.type) == (401, "user_invalid_credentials")
    error = error_of(account.create_email_password_session, "not-an-email", PASSWORD)
    assert (error.code, error.type) == (400, "general_argument_invalid")


def test_blocked_user_cannot_sign_in_or_use_a_session(stack, client, member):
    session = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    Users(client).update_status(member.id, False)
    error = error_of(Account(guest(stack)).create_email_password_session, member.email, PASSWORD)
    assert (error.code, error.type) == (401, "user_blocked")
    error = error_of(Account(with_session(stack, session.secret)).get)
    assert (error.code, error.type) == (401, "user_blocked")
    Users(client).update_status(member.id, True)
    assert Account(with_session(stack, session.secret)).get().id == member.id


def test_list_get_and_delete_sessions(stack, member):
    first = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    second = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    account = Account(with_session(stack, second.secret))
    listed = account.list_sessions()
    assert listed.total == 2 and [(s.id, s.current) for s in listed.sessions] == [(first.id, False), (second.id, True)]
    assert account.get_session("current").id == second.id
    assert account.get_session(first.id).current is False
    assert account.delete_session(first.id) == b""
    assert error_of(Account(with_session(stack, first.secret)).get).code == 401
    account.delete_session("current")
    error = error_of(account.get)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


def test_delete_sessions_optionally_keeps_the_current_one(stack, member):
    sessions = [Account(server(stack)).create_email_password_session(member.email, PASSWORD) for _ in range(3)]
    account = Account(with_session(stack, sessions[0].secret))
    account.delete_sessions(current=False)
    assert [s.id for s in account.list_sessions().sessions] == [sessions[0].id]
    account.delete_sessions()
    assert error_of(account.get).code == 401


def test_session_of_someone_else_is_not_found(stack, client, member):
    other = Users(client).create(ID.unique(), email=email(), password=PASSWORD)
    theirs = Account(server(stack)).create_email_password_session(other.email, PASSWORD)
    mine = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    error = error_of(Account(with_session(stack, mine.secret)).get_session, theirs.id)
    assert (error.code, error.type) == (404, "user_session_not_found")
    error = error_of(Account(with_session(stack, mine.secret)).delete_session, theirs.id)
    assert (error.code, error.type) == (404, "user_session_not_found")


# --- who may call /account ------------------------------------------------------------------------


def test_account_needs_a_user(stack):
    error = error_of(Account(guest(stack)).get)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    error = error_of(Account(make_client(stack)).get)  # an API key is not a user
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    error = error_of(Account(make_client(stack, jwt="not-a-jwt")).get)
    assert (error.code, error.type) == (401, "user_jwt_invalid")
    error = error_of(Account(with_session(stack, "made-up-secret")).get)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


# --- JWTs -----------------------------------------------------------------------------------------


def test_account_jwt_from_a_session(stack, member):
    session = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    token = json_call(with_session(stack, session.secret), "post", "/account/jwts")["jwt"]
    assert Account(make_client(stack, jwt=token)).get().id == member.id
    again = json_call(make_client(stack, jwt=token), "post", "/account/jwts", {"duration": 60})["jwt"]
    assert Account(make_client(stack, jwt=again)).get().id == member.id
    error = error_of(json_call, with_session(stack, session.secret), "post", "/account/jwts", {"duration": 5000})
    assert (error.code, error.type) == (400, "general_argument_invalid")
    Account(with_session(stack, session.secret)).delete_session("current")
    assert error_of(Account(make_client(stack, jwt=token)).get).code == 401  # the JWT died with its session
    error = error_of(json_call, guest(stack), "post", "/account/jwts")
    assert (error.code, error.type) == (401, "general_unauthorized_scope")


# --- sign-up and profile --------------------------------------------------------------------------


def test_sign_up_then_sign_in(stack, client):
    address = email("signup")
    created = Account(guest(stack)).create(ID.unique(), address, PASSWORD, name="New Person")
    assert created.email == address and created.password is None
    assert Users(client).get(created.id).password  # the server view has the hash
    error = error_of(Account(guest(stack)).create, ID.unique(), address, PASSWORD)
    assert (error.code, error.type) == (409, "user_already_exists")
    error = error_of(Account(guest(stack)).create, ID.unique(), email(), "short")
    assert (error.code, error.type) == (400, "general_argument_invalid")
    assert Account(guest(stack)).create_email_password_session(address, PASSWORD).userid == created.id


def test_update_own_name_password_and_prefs(stack, member):
    session = Account(server(stack)).create_email_password_session(member.email, PASSWORD)
    account = Account(with_session(stack, session.secret))
    assert account.update_name("Renamed").name == "Renamed"
    error = error_of(account.update_password, "new password 123", old_password="wrong one")
    assert (error.code, error.type) == (401, "user_invalid_credentials")
    account.update_password("new password 123", old_password=PASSWORD)
    assert Account(guest(stack)).create_email_password_session(member.email, "new password 123").userid == member.id
    assert account.get_prefs().data == {}
    assert account.update_prefs({"lang": "pt-BR"}).prefs.data == {"lang": "pt-BR"}
    assert account.get_prefs().data == {"lang": "pt-BR"}


# --- persistence ----------------------------------------------------------------------------------


def test_users_teams_and_sessions_survive_a_restart(tmp_path):
    from appwrite.services.teams import Teams

    settings = StackSettings.for_tests(free_port(), data_dir=tmp_path)
    with LocalAppwrite(settings) as first:
        user = Users(make_client(first)).create(ID.unique(), email=email(), password=PASSWORD)
        team = Teams(make_client(first)).create(ID.unique(), "Persistent")
        Teams(make_client(first)).create_membership(team.id, ["owner"], user_id=user.id)
        secret = Account(server(first)).create_email_password_session(user.email, PASSWORD).secret
        token = Users(make_client(first)).create_jwt(user.id).jwt
    restarted = StackSettings.for_tests(free_port(), data_dir=tmp_path)
    with LocalAppwrite(restarted) as second:
        assert Users(make_client(second)).get(user.id).email == user.email
        assert Teams(make_client(second)).get(team.id).total == 1
        assert Account(with_session(second, secret)).get().id == user.id
        assert Account(make_client(second, jwt=token)).get().id == user.id


# --- API-key scopes as Appwrite 1.9 accepts them ---------------------------------------------------


def keyed(stack, *scopes: str) -> Client:
    key = stack.credentials.mint_ephemeral_key("fn-scopes", list(scopes), 60, "exec-" + uuid.uuid4().hex[:8])
    return make_client(stack, key=key)


def test_scopes_under_both_spellings_and_table_scopes_cover_columns(stack, client):
    from appwrite.services.functions import Functions
    from appwrite.services.tables_db import TablesDB

    database = "scopes_" + uuid.uuid4().hex[:8]
    TablesDB(client).create(database, "Scopes")
    TablesDB(keyed(stack, "collections.write")).create_table(database, "legacy", "Legacy")  # deprecated name
    TablesDB(keyed(stack, "tables.write")).create_boolean_column(database, "legacy", "a", False)  # 1.9
    TablesDB(keyed(stack, "attributes.write")).create_boolean_column(database, "legacy", "b", False)
    assert TablesDB(keyed(stack, "tables.read")).get_column(database, "legacy", "a").key == "a"
    error = error_of(TablesDB(keyed(stack, "rows.write")).create_boolean_column, database, "legacy", "c", False)
    assert (error.code, error.type) == (401, "general_unauthorized_scope")
    assert "columns.write" in error.message and "tables.write" in error.message
    TablesDB(keyed(stack, "documents.write")).create_row(database, "legacy", "r1", {"a": True})
    assert TablesDB(keyed(stack, "documents.read")).get_row(database, "legacy", "r1").id == "r1"
    for scope in ("executions.read", "execution.read"):  # the deprecated alias still works in 1.9
        assert Functions(keyed(stack, scope)).list_executions("auth").total >= 0
    error = error_of(Functions(keyed(stack, "functions.read")).list_executions, "auth")
    assert error.type == "general_unauthorized_scope"


# --- CORS: only the registered web platforms ---------------------------------------------------------


def preflight(stack, origin: str) -> requests.Response:
    return requests.options(f"{stack.endpoint}/account", headers={
        "origin": origin, "access-control-request-method": "GET", "x-appwrite-project": stack.settings.project_id})


def test_cors_answers_registered_platforms_only(stack, member):
    for origin in ("http://localhost:3000", "http://127.0.0.1:5173", "http://[::1]:8000"):
        answer = preflight(stack, origin)
        assert answer.status_code == 204 and answer.headers["access-control-allow-origin"] == origin
        assert answer.headers["access-control-allow-credentials"] == "true"
        assert answer.headers["vary"] == "Origin" and answer.headers["access-control-max-age"] == "86400"
    foreign = preflight(stack, "https://evil.example")
    assert "access-control-allow-origin" not in foreign.headers and foreign.headers["vary"] == "Origin"
    session = Account(server(stack)).create_email_password_session(member.email, PASSWORD).secret
    headers = {"x-appwrite-project": stack.settings.project_id, "x-appwrite-session": session}
    refused = requests.get(f"{stack.endpoint}/account", headers={**headers, "origin": "https://evil.example"})
    assert (refused.status_code, refused.json()["type"]) == (403, "general_unknown_origin")
    allowed = requests.get(f"{stack.endpoint}/account", headers={**headers, "origin": "http://localhost:3000"})
    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == "http://localhost:3000"
    by_key = requests.get(f"{stack.endpoint}/users", headers={
        "x-appwrite-project": stack.settings.project_id, "x-appwrite-key": stack.settings.api_key,
        "origin": "https://evil.example"})
    assert by_key.status_code == 200  # a server with a key is no browser: no origin check


def test_cors_follows_the_configured_platform_list(tmp_path):
    settings = StackSettings.for_tests(free_port(), data_dir=tmp_path, web_platforms=("app.example.com", "*.acme.io"))
    with LocalAppwrite(settings) as configured:
        assert preflight(configured, "https://app.example.com").headers["access-control-allow-origin"] \
            == "https://app.example.com"
        assert preflight(configured, "https://eu.acme.io").headers["access-control-allow-origin"] == "https://eu.acme.io"
        for origin in ("http://localhost:3000", "https://acme.io", "https://app.example.com.evil.io"):
            assert "access-control-allow-origin" not in preflight(configured, origin).headers, origin
