"""The Account service: the signed-in user's own view (``x-appwrite-jwt`` or a session).

Besides ``GET /account`` this gives demo frontends e-mail/password sessions. A session's secret
authenticates later requests in any of the ways Appwrite's SDKs send it: the ``x-appwrite-session``
header (server SDKs, ``Client.set_session``), the Web SDK's ``x-fallback-cookies`` header, or the
``a_session_<project>`` cookie. :func:`register` installs the lookup as
``stack.credentials.session_resolver`` so ``auth.py`` never touches storage itself.
"""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING

from .auth import Caller
from .common import as_bool, now_iso, resolve_id
from .errors import AppwriteError
from .http import Request, Response, Router
from .users import store
from .users.routes import created, no_content, present

if TYPE_CHECKING:
    from .app import LocalAppwrite


def invalid_credentials() -> AppwriteError:
    return AppwriteError(
        401, "user_invalid_credentials", "Invalid credentials. Please check the email and password."
    )


def blocked() -> AppwriteError:
    return AppwriteError(401, "user_blocked", "The current user has been blocked.")


def missing_account_scope(caller: Caller | None) -> AppwriteError:
    role = caller.role_name if caller and caller.kind != "user" else "guests"
    return AppwriteError(401, "general_unauthorized_scope", f'{role} (role: {role}) missing scopes (["account"])')


def session_secret(headers: dict[str, str], project_id: str) -> str | None:
    """The session secret from whichever carrier the client used, or None."""
    cookie_name = f"a_session_{project_id}"
    if headers.get("x-appwrite-session"):
        return headers["x-appwrite-session"]
    fallback = headers.get("x-fallback-cookies")
    if fallback:
        try:
            value = json.loads(fallback).get(cookie_name)
        except (ValueError, AttributeError):
            value = None
        if value:
            return str(value)
    if headers.get("cookie"):
        try:
            morsel = SimpleCookie(headers["cookie"]).get(cookie_name)
        except CookieError:
            morsel = None
        if morsel is not None and morsel.value:
            return morsel.value
    return None


def session_response(request: Request, project_id: str, session: dict, secret: str, body: dict | None = None,
                     status: int = 201) -> Response:
    """A new session's answer: the cookie and the Web SDK's fallback header always carry the secret; the
    body's ``secret`` only for an API-key caller (Appwrite's ``sensitive`` rule: a server-side app signs
    the user in with its key, then sets the cookie or sends ``x-appwrite-session`` itself)."""
    cookie = f"a_session_{project_id}"
    headers = {
        "x-fallback-cookies": json.dumps({cookie: secret}),
        "set-cookie": f"{cookie}={secret}; max-age={store.SESSION_SECONDS}; path=/; httponly; samesite=lax",
    }
    shown = secret if request.caller is not None and request.caller.is_key else ""
    if body is None:
        body = store.session_public(session, current_id=session["$id"], secret=shown)
    return Response(status, body, headers)


def register(stack: LocalAppwrite, router: Router) -> None:
    storage = stack.storage
    project_id = stack.settings.project_id
    store.migrate(storage)

    def resolve_session(headers: dict[str, str]) -> tuple[str, str] | None:
        secret = session_secret(headers, project_id)
        if not secret:
            return None
        with storage.read() as conn:
            session = store.session_by_secret(conn, secret)
        return (session["userId"], session["$id"]) if session else None

    stack.credentials.session_resolver = resolve_session

    def current_user(request: Request) -> dict:
        """The caller's user document; a deleted user or a revoked session makes the caller a guest."""
        caller = request.caller
        if caller is None or caller.kind != "user" or not caller.user_id:
            raise missing_account_scope(caller)
        with storage.read() as conn:
            doc = store.load_user(conn, caller.user_id)
            if doc is not None and caller.session_id and store.load_session(conn, caller.session_id) is None:
                doc = None
        if doc is None:
            raise missing_account_scope(None)
        if not doc.get("status", True):
            raise blocked()
        return doc

    def get_account(request: Request) -> dict:
        return store.user_public(current_user(request), account=True)

    def create_account(request: Request) -> Response:
        user_id = resolve_id(request.require("userId"), "`userId` param")
        email = store.valid_email(request.require("email"))
        hashed = store.hash_password(store.valid_password(request.require("password")))
        name = store.valid_name(request.param("name"))
        doc = store.new_user(user_id, email=email, phone=None, name=name, password=hashed)
        with storage.write() as conn:
            store.insert_user(conn, doc)
        stack.events.publish([f"users.{user_id}.create"], store.user_public(doc))
        return created(store.user_public(doc, account=True))

    def create_email_session(request: Request) -> Response:
        email = store.valid_email(request.require("email"))
        password = request.require("password")
        with storage.read() as conn:
            user = store.find_user_by_email(conn, email)
        if user is None or not store.verify_password(user, password):
            raise invalid_credentials()
        if not user.get("status", True):
            raise blocked()
        with storage.write() as conn:
            session, secret = store.create_session(conn, user["$id"], provider="email", ip=request.client_ip)
            fresh = store.load_user(conn, user["$id"])
            if fresh is not None:
                fresh["accessedAt"] = now_iso()
                store.save_user(conn, fresh, touch=False)
        stack.events.publish([f"users.{user['$id']}.sessions.{session['$id']}.create"], store.session_public(session))
        return session_response(request, project_id, session, secret)

    def session_id_of(request: Request, session_id: str) -> str:
        if session_id == "current":
            if not request.caller or not request.caller.session_id:
                raise store.session_not_found()
            return request.caller.session_id
        return session_id

    def list_sessions(request: Request) -> dict:
        user = current_user(request)
        with storage.read() as conn:
            sessions = store.sessions_of(conn, user["$id"])
        current = request.caller.session_id if request.caller else None
        items = [store.session_public(s, current) for s in sessions]
        return {"total": len(items) if as_bool(request.param("total"), True) else 0, "sessions": items}

    def get_session(request: Request, sessionId: str) -> dict:  # noqa: N803 - Appwrite's path names
        user = current_user(request)
        wanted = session_id_of(request, sessionId)
        with storage.read() as conn:
            session = store.load_session(conn, wanted)
        if session is None or session["userId"] != user["$id"]:
            raise store.session_not_found()
        return store.session_public(session, request.caller.session_id if request.caller else None)

    def delete_session(request: Request, sessionId: str) -> Response:  # noqa: N803
        user = current_user(request)
        wanted = session_id_of(request, sessionId)
        with storage.write() as conn:
            session = store.load_session(conn, wanted)
            if session is None or session["userId"] != user["$id"]:
                raise store.session_not_found()
            conn.execute("DELETE FROM aw_sessions WHERE id = ?", (wanted,))
        stack.events.publish([f"users.{user['$id']}.sessions.{wanted}.delete"], store.session_public(session))
        return no_content()

    def delete_sessions(request: Request) -> Response:
        user = current_user(request)
        keep = "" if as_bool(request.param("current"), True) else (request.caller.session_id or "")
        with storage.write() as conn:  # current=false (SDK 27): sign out everywhere else, stay signed in here
            conn.execute("DELETE FROM aw_sessions WHERE user_id = ? AND id != ?", (user["$id"], keep))
        return no_content()

    def create_jwt(request: Request) -> Response:
        user = current_user(request)
        duration = store.valid_duration(request.param("duration"))
        session_id = request.caller.session_id if request.caller else None
        return created({"jwt": stack.credentials.mint_user_jwt(user["$id"], session_id or "", duration)})

    def update_name(request: Request) -> dict:
        name = store.valid_name(present(request, "name"))
        return change_user(request, "name", lambda doc: doc.update(name=name))

    def update_password(request: Request) -> dict:
        user = current_user(request)
        new = store.hash_password(store.valid_password(request.require("password")))
        # As Appwrite: the old password is required once one was ever set (``passwordUpdate``); a user
        # created by an invitation has none yet and sets it after accepting.
        if user.get("passwordUpdate") and not store.verify_password(user, request.param("oldPassword") or ""):
            raise invalid_credentials()

        def apply(doc: dict) -> None:
            doc.update(password=new[0], _salt=new[1], passwordUpdate=now_iso())

        return change_user(request, "password", apply)

    def get_prefs(request: Request) -> dict:
        return current_user(request)["prefs"]

    def update_prefs(request: Request) -> dict:
        prefs = store.valid_prefs(present(request, "prefs"))
        return change_user(request, "prefs", lambda doc: doc.update(prefs=prefs))

    def change_user(request: Request, event: str, apply) -> dict:  # type: ignore[no-untyped-def]
        user_id = current_user(request)["$id"]
        with storage.write() as conn:
            doc = store.require_user(conn, user_id)
            apply(doc)
            store.save_user(conn, doc)
        stack.events.publish([f"users.{user_id}.update.{event}"], store.user_public(doc))
        return store.user_public(doc, account=True)

    account = {"scope": None, "users": True}
    public = {"scope": None, "users": False}
    router.add("GET", "/account", get_account, **account)
    router.add("POST", "/account", create_account, **public)
    router.add("POST", "/account/sessions/email", create_email_session, **public)
    router.add("GET", "/account/sessions", list_sessions, **account)
    router.add("DELETE", "/account/sessions", delete_sessions, **account)
    router.add("GET", "/account/sessions/{sessionId}", get_session, **account)
    router.add("DELETE", "/account/sessions/{sessionId}", delete_session, **account)
    router.add("POST", "/account/jwts", create_jwt, **account)
    router.add("PATCH", "/account/name", update_name, **account)
    router.add("PATCH", "/account/password", update_password, **account)
    router.add("GET", "/account/prefs", get_prefs, **account)
    router.add("PATCH", "/account/prefs", update_prefs, **account)
