"""The Users service (server-side user management, API-key scopes ``users.read`` / ``users.write``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..common import as_bool, now_iso, resolve_id
from ..errors import AppwriteError
from ..http import Request, Response, Router
from . import store
from .query import Schema, run_list

if TYPE_CHECKING:
    from ..app import LocalAppwrite

USER_SCHEMA = Schema(
    frozenset({
        "name", "email", "phone", "status", "passwordUpdate", "registration", "emailVerification",
        "phoneVerification", "mfa", "accessedAt",
    }),
    arrays=frozenset({"labels"}),
)
MEMBERSHIP_SCHEMA = Schema(frozenset({"userId", "teamId", "invited", "joined", "confirm", "userName", "userEmail"}),
                           arrays=frozenset({"roles"}))
Change = Callable[[dict, Request, Any], None]


def created(body: dict) -> Response:
    return Response(201, body)


def no_content() -> Response:
    """Appwrite's 204: an empty body the SDK does not try to decode as JSON."""
    return Response(204, b"", {"content-type": "text/html; charset=UTF-8"})


def register(stack: LocalAppwrite, router: Router) -> None:
    storage = stack.storage

    def publish(names: list[str], payload: dict) -> None:
        stack.events.publish(names, payload)

    def list_users(request: Request) -> dict:
        with storage.read() as conn:
            users = [store.user_public(doc) for doc in store.all_users(conn)]
        return run_list(
            users, request.param("queries"), USER_SCHEMA, search=request.param("search"),
            search_text=store.user_search_text, total=request.param("total", True), key="users",
        )

    def create_user(request: Request) -> Response:
        user_id = resolve_id(request.require("userId"), "`userId` param")
        email = store.valid_email(request.param("email"), allow_empty=True)
        phone = store.valid_phone(request.param("phone"), allow_empty=True)
        name = store.valid_name(request.param("name"))
        password = request.param("password")
        hashed = store.hash_password(store.valid_password(password)) if password not in (None, "") else None
        doc = store.new_user(user_id, email=email, phone=phone, name=name, password=hashed)
        with storage.write() as conn:
            store.insert_user(conn, doc)
        body = store.user_public(doc)
        publish([f"users.{user_id}.create"], body)
        return created(body)

    def get_user(request: Request, userId: str) -> dict:  # noqa: N803 - Appwrite's path names
        with storage.read() as conn:
            return store.user_public(store.require_user(conn, userId))

    def delete_user(request: Request, userId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            doc = store.require_user(conn, userId)
            # sessions and memberships go with the user (ON DELETE CASCADE)
            conn.execute("DELETE FROM aw_users WHERE id = ?", (userId,))
        publish([f"users.{userId}.delete"], store.user_public(doc))
        return no_content()

    def updater(event: str, change: Change, prepare: Callable[[Request], Any] | None = None) -> Callable[..., dict]:
        """A ``PATCH/PUT /users/{userId}/<field>`` route: validate, apply ``change``, save, publish.

        ``prepare`` runs before the write lock is taken (password hashing is deliberately slow).
        """

        def handle(request: Request, userId: str) -> dict:  # noqa: N803
            prepared = prepare(request) if prepare else None
            with storage.write() as conn:
                doc = store.require_user(conn, userId)
                change(doc, request, prepared)
                store.sync_targets(doc)
                try:
                    store.save_user(conn, doc)
                except sqlite3.IntegrityError as error:  # email or phone already taken
                    raise _duplicate(event) from error
            body = store.user_public(doc)
            publish([f"users.{userId}.update.{event}"], body)
            return body

        return handle

    def set_name(doc: dict, request: Request, _: object) -> None:
        doc["name"] = store.valid_name(present(request, "name"))

    def set_email(doc: dict, request: Request, _: object) -> None:
        email = store.valid_email(present(request, "email"), allow_empty=True)
        if (email or "") != doc["email"]:
            doc["email"], doc["emailVerification"] = email or "", False

    def set_phone(doc: dict, request: Request, _: object) -> None:
        phone = store.valid_phone(present(request, "number"), allow_empty=True)
        if (phone or "") != doc["phone"]:
            doc["phone"], doc["phoneVerification"] = phone or "", False

    def set_status(doc: dict, request: Request, _: object) -> None:
        doc["status"] = _bool_param(request, "status")

    def set_labels(doc: dict, request: Request, _: object) -> None:
        doc["labels"] = store.valid_labels(present(request, "labels"))

    def set_email_verification(doc: dict, request: Request, _: object) -> None:
        doc["emailVerification"] = _bool_param(request, "emailVerification")

    def set_phone_verification(doc: dict, request: Request, _: object) -> None:
        doc["phoneVerification"] = _bool_param(request, "phoneVerification")

    def set_password(doc: dict, request: Request, hashed: tuple[str, str] | None) -> None:
        doc["password"], doc["_salt"] = hashed if hashed else (None, None)
        doc["passwordUpdate"] = now_iso() if hashed else ""

    def hash_new_password(request: Request) -> tuple[str, str] | None:
        password = present(request, "password")
        return None if password == "" else store.hash_password(store.valid_password(password))

    def get_prefs(request: Request, userId: str) -> dict:  # noqa: N803
        with storage.read() as conn:
            return store.require_user(conn, userId)["prefs"]

    def update_prefs(request: Request, userId: str) -> dict:  # noqa: N803
        prefs = store.valid_prefs(request.param("prefs"))
        with storage.write() as conn:
            doc = store.require_user(conn, userId)
            doc["prefs"] = prefs
            store.save_user(conn, doc)
        publish([f"users.{userId}.update.prefs"], store.user_public(doc))
        return prefs

    def list_memberships(request: Request, userId: str) -> dict:  # noqa: N803
        with storage.read() as conn:
            store.require_user(conn, userId)
            memberships = store.memberships_where(conn, "user_id", userId)
        return run_list(
            memberships, request.param("queries"), MEMBERSHIP_SCHEMA, search=request.param("search"),
            search_text=store.membership_search_text, total=request.param("total", True), key="memberships",
        )

    def create_jwt(request: Request, userId: str) -> Response:  # noqa: N803
        duration = store.valid_duration(request.param("duration"))
        session_id = request.param("sessionId") or ""
        with storage.read() as conn:
            store.require_user(conn, userId)
            sessions = store.sessions_of(conn, userId)
        if session_id == "recent":
            session_id = sessions[-1]["$id"] if sessions else ""
        elif session_id and not any(s["$id"] == session_id for s in sessions):
            raise store.session_not_found()
        return created({"jwt": stack.credentials.mint_user_jwt(userId, session_id, duration)})

    def list_sessions(request: Request, userId: str) -> dict:  # noqa: N803
        with storage.read() as conn:
            store.require_user(conn, userId)
            sessions = [store.session_public(s) for s in store.sessions_of(conn, userId)]
        return {"total": len(sessions) if as_bool(request.param("total"), True) else 0, "sessions": sessions}

    def create_session(request: Request, userId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            store.require_user(conn, userId)
            session, secret = store.create_session(conn, userId, provider="server", ip=request.client_ip)
        publish([f"users.{userId}.sessions.{session['$id']}.create"], store.session_public(session))
        return created(store.session_public(session, secret=secret))

    def delete_sessions(request: Request, userId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            store.require_user(conn, userId)
            conn.execute("DELETE FROM aw_sessions WHERE user_id = ?", (userId,))
        return no_content()

    def delete_session(request: Request, userId: str, sessionId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            store.require_user(conn, userId)
            deleted = conn.execute(
                "DELETE FROM aw_sessions WHERE id = ? AND user_id = ?", (sessionId, userId)
            ).rowcount
        if not deleted:
            raise store.session_not_found()
        return no_content()

    read, write = {"scope": "users.read"}, {"scope": "users.write"}
    router.add("GET", "/users", list_users, **read)
    router.add("POST", "/users", create_user, **write)
    router.add("GET", "/users/{userId}", get_user, **read)
    router.add("DELETE", "/users/{userId}", delete_user, **write)
    router.add("PATCH", "/users/{userId}/name", updater("name", set_name), **write)
    router.add("PATCH", "/users/{userId}/email", updater("email", set_email), **write)
    router.add("PATCH", "/users/{userId}/phone", updater("phone", set_phone), **write)
    router.add("PATCH", "/users/{userId}/status", updater("status", set_status), **write)
    router.add("PATCH", "/users/{userId}/password", updater("password", set_password, hash_new_password), **write)
    router.add("PUT", "/users/{userId}/labels", updater("labels", set_labels), **write)
    router.add("PATCH", "/users/{userId}/verification", updater("verification", set_email_verification), **write)
    router.add(
        "PATCH", "/users/{userId}/verification/phone", updater("verification", set_phone_verification), **write
    )
    router.add("GET", "/users/{userId}/prefs", get_prefs, **read)
    router.add("PATCH", "/users/{userId}/prefs", update_prefs, **write)
    router.add("GET", "/users/{userId}/memberships", list_memberships, **read)
    router.add("POST", "/users/{userId}/jwts", create_jwt, **write)
    router.add("GET", "/users/{userId}/sessions", list_sessions, **read)
    router.add("POST", "/users/{userId}/sessions", create_session, **write)
    router.add("DELETE", "/users/{userId}/sessions", delete_sessions, **write)
    router.add("DELETE", "/users/{userId}/sessions/{sessionId}", delete_session, **write)


def present(request: Request, name: str) -> Any:
    """A required param that may be empty (``""`` clears an email, for instance)."""
    if name not in request.params:
        raise AppwriteError(400, "general_argument_invalid", f'Param "{name}" is not optional.')
    return request.params[name]


def _bool_param(request: Request, name: str) -> bool:
    value = present(request, name)
    if not isinstance(value, bool):
        raise store.bad_param(name, "Value must be a valid boolean")
    return value


def _duplicate(event: str) -> AppwriteError:
    kind = {"email": "email", "phone": "phone"}.get(event)
    if kind:
        return AppwriteError(
            409, f"user_{kind}_already_exists", f"A user with the same {kind} already exists in the current project."
        )
    return AppwriteError(409, "user_already_exists", "A user with the same id, email, or phone already exists.")
