"""The Teams service: teams and their memberships, as Appwrite 1.9 serves them.

Bigtech maps one tenant to one team, and a member's tenant role to membership roles. Two callers:

* an API key (scopes ``teams.read`` / ``teams.write``): sees every team; a membership it creates is
  confirmed at once (no invitation), and an unknown e-mail creates that user;
* a signed-in user (JWT or session): sees only the teams they have joined; a team *owner* (membership
  role ``owner``) invites: the membership stays ``confirm: false`` until the invitee accepts with the
  secret from the invitation e-mail (``PATCH .../status``, no credential needed), which confirms it,
  verifies the e-mail and signs the invitee in. An unknown e-mail creates a user without a password.

There is no mail server: the last invitation sent to an address is kept in memory and read back with
the local-only ``GET /v1/local/invitations/last?email=...`` (API key), which is how tests and
``scripts/dev`` play the e-mail.
"""

from __future__ import annotations

import hmac
import secrets
import sqlite3
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from .account import missing_account_scope, session_response
from .auth import Caller
from .common import dumps, loads, now_iso, resolve_id
from .cors import host_of_url
from .errors import AppwriteError
from .http import Request, Response, Router
from .users import store
from .users.query import Schema, run_list
from .users.routes import MEMBERSHIP_SCHEMA, created, no_content, present

if TYPE_CHECKING:
    from .app import LocalAppwrite

TEAM_SCHEMA = Schema(frozenset({"name", "total", "billingPlan"}))
INVITE_SECRET_BYTES = 32


def user_unauthorized(message: str = "The current user is not authorized to perform the requested action."
                      ) -> AppwriteError:
    return AppwriteError(401, "user_unauthorized", message)


def _user_id(caller: Caller | None) -> str | None:
    """The signed-in user's id, or None for an API key (which sees everything)."""
    if caller is not None and caller.is_key:
        return None
    if caller is None or caller.kind != "user" or not caller.user_id:
        raise missing_account_scope(caller)
    return caller.user_id


def _confirmed(conn: sqlite3.Connection, team_id: str, user_id: str) -> dict | None:
    row = conn.execute(
        "SELECT doc FROM aw_memberships WHERE team_id = ? AND user_id = ?", (team_id, user_id)
    ).fetchone()
    doc = loads(row["doc"]) if row else None
    return doc if doc is not None and doc.get("confirm") else None


class Mailbox:
    """The invitation e-mails the stack would have sent (the last one per address)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, Any]] = {}

    def deliver(self, email: str, mail: dict[str, Any]) -> None:
        with self._lock:
            self._last[email.lower()] = mail

    def last(self, email: str) -> dict[str, Any] | None:
        with self._lock:
            return self._last.get(email.lower())


def register(stack: LocalAppwrite, router: Router) -> None:
    storage = stack.storage
    store.migrate(storage)
    mailbox = Mailbox()
    stack.mailbox = mailbox  # type: ignore[attr-defined]

    def readable_team(conn: sqlite3.Connection, request: Request, team_id: str) -> dict:
        """The team, if the caller may read it: a key always, a user only as a confirmed member (else 404)."""
        team = store.require_team(conn, team_id)
        user_id = _user_id(request.caller)
        if user_id is not None and _confirmed(conn, team_id, user_id) is None:
            raise store.team_not_found()
        return team

    def require_owner(conn: sqlite3.Connection, request: Request, team_id: str, message: str) -> None:
        user_id = _user_id(request.caller)
        if user_id is None:
            return
        mine = _confirmed(conn, team_id, user_id)
        if mine is None or "owner" not in mine.get("roles", []):
            raise user_unauthorized(message)

    def list_teams(request: Request) -> dict:
        user_id = _user_id(request.caller)
        with storage.read() as conn:
            if user_id is None:
                rows = conn.execute("SELECT doc FROM aw_teams ORDER BY seq").fetchall()
            else:  # a user lists the teams they have joined (read permission ``team:<id>``)
                rows = conn.execute(
                    "SELECT t.doc FROM aw_teams t JOIN aw_memberships m ON m.team_id = t.id "
                    "WHERE m.user_id = ? AND json_extract(m.doc, '$.confirm') = 1 ORDER BY t.seq", (user_id,),
                ).fetchall()
            teams = [store.team_public(conn, loads(r["doc"])) for r in rows]
        return run_list(
            teams, request.param("queries"), TEAM_SCHEMA, search=request.param("search"),
            search_text=lambda t: f"{t['$id']} {t['name']}", total=request.param("total", True), key="teams",
        )

    def create_team(request: Request) -> Response:
        team_id = resolve_id(request.require("teamId"), "`teamId` param")
        name = store.valid_name(request.require("name"))
        if request.param("roles") is not None:
            store.valid_roles(request.param("roles"))
        now = now_iso()
        doc = {"$id": team_id, "$createdAt": now, "$updatedAt": now, "name": name, "prefs": {}}
        with storage.write() as conn:
            try:
                conn.execute("INSERT INTO aw_teams (id, doc) VALUES (?, ?)", (team_id, dumps(doc)))
            except sqlite3.IntegrityError:
                raise AppwriteError(409, "team_already_exists", "Team with requested ID already exists.") from None
            body = store.team_public(conn, doc)
        # With an API key nobody joins: Appwrite only makes the *calling user* an owner (``roles``).
        stack.events.publish([f"teams.{team_id}.create"], body)
        return created(body)

    def get_team(request: Request, teamId: str) -> dict:  # noqa: N803 - Appwrite's path names
        with storage.read() as conn:
            return store.team_public(conn, readable_team(conn, request, teamId))

    def update_team_name(request: Request, teamId: str) -> dict:  # noqa: N803
        name = store.valid_name(request.require("name"))
        with storage.write() as conn:
            doc = store.require_team(conn, teamId)
            doc.update(name=name, **{"$updatedAt": now_iso()})
            conn.execute("UPDATE aw_teams SET doc = ? WHERE id = ?", (dumps(doc), teamId))
            body = store.team_public(conn, doc)
        stack.events.publish([f"teams.{teamId}.update"], body)
        return body

    def delete_team(request: Request, teamId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            body = store.team_public(conn, store.require_team(conn, teamId))
            conn.execute("DELETE FROM aw_teams WHERE id = ?", (teamId,))  # memberships cascade
        stack.events.publish([f"teams.{teamId}.delete"], body)
        return no_content()

    def get_prefs(request: Request, teamId: str) -> dict:  # noqa: N803
        with storage.read() as conn:
            return readable_team(conn, request, teamId)["prefs"]

    def update_prefs(request: Request, teamId: str) -> dict:  # noqa: N803
        prefs = store.valid_prefs(request.param("prefs"))
        with storage.write() as conn:
            doc = store.require_team(conn, teamId)
            doc.update(prefs=prefs, **{"$updatedAt": now_iso()})
            conn.execute("UPDATE aw_teams SET doc = ? WHERE id = ?", (dumps(doc), teamId))
        stack.events.publish([f"teams.{teamId}.update.prefs"], doc)
        return prefs

    def list_memberships(request: Request, teamId: str) -> dict:  # noqa: N803
        with storage.read() as conn:
            readable_team(conn, request, teamId)
            memberships = store.memberships_where(conn, "team_id", teamId)
        return run_list(
            memberships, request.param("queries"), MEMBERSHIP_SCHEMA, search=request.param("search"),
            search_text=store.membership_search_text, total=request.param("total", True), key="memberships",
        )

    def invitation_url(request: Request) -> str:
        url = request.param("url") or ""
        if not isinstance(url, str) or (url and not stack.dispatcher.cors.allows_host(host_of_url(url))):
            raise AppwriteError(
                400, "general_argument_invalid",
                "Invalid `url` param: URL host must be one of: " + ", ".join(stack.dispatcher.cors.hostnames),
            )
        return url

    def create_membership(request: Request, teamId: str) -> Response:  # noqa: N803
        by_key = _user_id(request.caller) is None
        roles = store.valid_roles(present(request, "roles"))
        user_id = request.param("userId") or ""
        email = store.valid_email(request.param("email"), allow_empty=True) or ""
        phone = store.valid_phone(request.param("phone"), allow_empty=True) or ""
        name = store.valid_name(request.param("name")) or email
        url = invitation_url(request)
        membership_id = resolve_id(request.param("membershipId"), "`membershipId` param")
        if not url and not by_key:
            raise AppwriteError(400, "general_argument_invalid", "URL is required")
        if not (user_id or email or phone):
            raise AppwriteError(
                400, "general_argument_invalid", "At least one of userId, email, or phone is required"
            )
        secret = secrets.token_hex(INVITE_SECRET_BYTES)
        with storage.write() as conn:
            team = store.require_team(conn, teamId)
            invitee = _find_invitee(conn, user_id, email, phone)
            if invitee is None:  # as Appwrite: the invitee's user, with no password until they set one
                invitee = store.new_user(resolve_id(None), email=email, phone=phone, name=name, password=None)
                store.insert_user(conn, invitee)
            require_owner(conn, request, teamId, "User is not allowed to send invitations for this team")
            existing = conn.execute(
                "SELECT doc FROM aw_memberships WHERE team_id = ? AND user_id = ?", (teamId, invitee["$id"])
            ).fetchone()
            now = now_iso()
            joined = now if by_key else ""
            if existing is None:
                doc = {
                    "$id": membership_id, "$createdAt": now, "$updatedAt": now, "userId": invitee["$id"],
                    "teamId": team["$id"], "invited": now, "joined": joined, "confirm": by_key, "roles": roles,
                    "_secret": store.secret_hash(secret),
                }
                try:
                    conn.execute(
                        "INSERT INTO aw_memberships (id, team_id, user_id, doc) VALUES (?, ?, ?, ?)",
                        (doc["$id"], teamId, invitee["$id"], dumps(doc)),
                    )
                except sqlite3.IntegrityError:
                    raise AppwriteError(
                        409, "team_invite_already_exists", "User has already been invited or is already a member "
                        "of this team",
                    ) from None
            elif not loads(existing["doc"]).get("confirm"):  # invited again: a new secret (and, by key, joined)
                doc = {**loads(existing["doc"]), "$updatedAt": now, "invited": now, "joined": joined,
                       "confirm": by_key, "_secret": store.secret_hash(secret)}
                conn.execute("UPDATE aw_memberships SET doc = ? WHERE id = ?", (dumps(doc), doc["$id"]))
            else:
                raise AppwriteError(409, "membership_already_confirmed", "Membership is already confirmed.")
            body = store.membership_public(conn, doc)
        if not by_key and (invitee.get("email") or email):
            mailbox.deliver(invitee.get("email") or email, _invitation_mail(url, body, secret))
        stack.events.publish([f"teams.{teamId}.memberships.{body['$id']}.create"], body)
        return created(body)

    def load_membership(conn: sqlite3.Connection, team_id: str, membership_id: str) -> dict:
        store.require_team(conn, team_id)
        row = conn.execute(
            "SELECT doc FROM aw_memberships WHERE id = ? AND team_id = ?", (membership_id, team_id)
        ).fetchone()
        if row is None:
            raise store.membership_not_found()
        return loads(row["doc"])

    def get_membership(request: Request, teamId: str, membershipId: str) -> dict:  # noqa: N803
        with storage.read() as conn:
            readable_team(conn, request, teamId)
            return store.membership_public(conn, load_membership(conn, teamId, membershipId))

    def update_membership(request: Request, teamId: str, membershipId: str) -> dict:  # noqa: N803
        roles = store.valid_roles(present(request, "roles"))
        with storage.write() as conn:
            doc = load_membership(conn, teamId, membershipId)
            require_owner(conn, request, teamId, "User is not allowed to modify roles")
            doc.update(roles=roles, **{"$updatedAt": now_iso()})
            conn.execute("UPDATE aw_memberships SET doc = ? WHERE id = ?", (dumps(doc), membershipId))
            body = store.membership_public(conn, doc)
        stack.events.publish([f"teams.{teamId}.memberships.{membershipId}.update"], body)
        return body

    def update_membership_status(request: Request, teamId: str, membershipId: str) -> Response:  # noqa: N803
        """Accept an invitation: ``userId`` + the e-mail's ``secret``; no key, no session needed."""
        user_id, secret = request.require("userId"), request.require("secret")
        if not isinstance(secret, str) or not isinstance(user_id, str) or len(secret) > 256:
            raise AppwriteError(400, "general_argument_invalid", "Invalid `secret` param: Value must be a valid string")
        caller = request.caller
        signed_in = caller is not None and caller.kind == "user" and bool(caller.user_id)
        with storage.write() as conn:
            row = conn.execute("SELECT team_id, doc FROM aw_memberships WHERE id = ?", (membershipId,)).fetchone()
            if row is None:
                raise store.membership_not_found()
            store.require_team(conn, teamId)
            if row["team_id"] != teamId:
                raise AppwriteError(
                    404, "team_membership_mismatch", "The membership ID does not belong to the team ID."
                )
            doc = loads(row["doc"])
            if not doc.get("_secret") or not hmac_equal(doc["_secret"], store.secret_hash(secret)):
                raise AppwriteError(401, "team_invalid_secret", "The team invitation secret is invalid. Please "
                                    "request a new invitation and try again.")
            if user_id != doc["userId"] or (signed_in and caller.user_id != user_id):
                raise AppwriteError(401, "team_invite_mismatch", "Invite does not belong to current user.")
            if doc.get("confirm"):
                raise AppwriteError(409, "membership_already_confirmed", "Membership is already confirmed.")
            now = now_iso()
            doc.update(confirm=True, joined=now, **{"$updatedAt": now})
            conn.execute("UPDATE aw_memberships SET doc = ? WHERE id = ?", (dumps(doc), membershipId))
            user = store.require_user(conn, user_id)
            user["emailVerification"] = True  # the invitation e-mail proved the address
            store.save_user(conn, user)
            session, session_secret = (None, "") if signed_in else store.create_session(
                conn, user_id, provider="email", ip=request.client_ip)
            body = store.membership_public(conn, doc)
        stack.events.publish([f"teams.{teamId}.memberships.{membershipId}.update.status"], body)
        if session is None:
            return Response(200, body)
        stack.events.publish([f"users.{user_id}.sessions.{session['$id']}.create"], store.session_public(session))
        return session_response(request, stack.settings.project_id, session, session_secret, body=body, status=200)

    def delete_membership(request: Request, teamId: str, membershipId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            doc = load_membership(conn, teamId, membershipId)
            if _user_id(request.caller) != doc["userId"]:  # a user may always leave (or decline) themselves
                require_owner(conn, request, teamId, "User is not allowed to delete this membership")
            body = store.membership_public(conn, doc)
            conn.execute("DELETE FROM aw_memberships WHERE id = ?", (membershipId,))
        stack.events.publish([f"teams.{teamId}.memberships.{membershipId}.delete"], body)
        return no_content()

    def last_invitation(request: Request) -> dict:
        """Local only: the last invitation e-mail sent to ``email`` (what the invitee would click)."""
        email = store.valid_email(request.require("email"))
        mail = mailbox.last(email or "")
        if mail is None:
            raise AppwriteError(404, "general_not_found", "No invitation was sent to this address.")
        return mail

    key_read, key_write = {"scope": "teams.read"}, {"scope": "teams.write"}
    read, write = {**key_read, "users": True}, {**key_write, "users": True}
    router.add("GET", "/teams", list_teams, **read)
    router.add("POST", "/teams", create_team, **key_write)
    router.add("GET", "/teams/{teamId}", get_team, **read)
    router.add("PUT", "/teams/{teamId}", update_team_name, **key_write)
    router.add("DELETE", "/teams/{teamId}", delete_team, **key_write)
    router.add("GET", "/teams/{teamId}/prefs", get_prefs, **read)
    router.add("PUT", "/teams/{teamId}/prefs", update_prefs, **key_write)
    router.add("GET", "/teams/{teamId}/memberships", list_memberships, **read)
    router.add("POST", "/teams/{teamId}/memberships", create_membership, **write)
    router.add("GET", "/teams/{teamId}/memberships/{membershipId}", get_membership, **read)
    router.add("PATCH", "/teams/{teamId}/memberships/{membershipId}", update_membership, **write)
    router.add("DELETE", "/teams/{teamId}/memberships/{membershipId}", delete_membership, **write)
    router.add("PATCH", "/teams/{teamId}/memberships/{membershipId}/status", update_membership_status,
               scope=None, users=False)
    router.add("GET", "/local/invitations/last", last_invitation, scope="users.read")


def hmac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _invitation_mail(url: str, membership: dict, secret: str) -> dict[str, Any]:
    """What Appwrite's invitation e-mail links to: ``url`` plus the five query parameters it appends."""
    query = {"membershipId": membership["$id"], "userId": membership["userId"], "secret": secret,
             "teamId": membership["teamId"], "teamName": membership.get("teamName", "")}
    parts = urlsplit(url)
    link = urlunsplit((parts.scheme, parts.netloc, parts.path,
                       "&".join(p for p in (parts.query, urlencode(query)) if p), parts.fragment))
    return {"to": membership.get("userEmail", ""), "url": link, "sentAt": now_iso(), **query}


def _find_invitee(conn: sqlite3.Connection, user_id: str, email: str, phone: str) -> dict | None:
    """Appwrite's order: ``userId`` must exist and agree with email/phone; else look up by email, then phone."""
    if user_id:
        invitee = store.load_user(conn, user_id)
        if invitee is None:
            raise AppwriteError(404, "user_not_found", "User with given userId doesn't exist.")
        if email and invitee["email"] != email:
            raise AppwriteError(409, "user_already_exists", "Given userId and email doesn't match")
        if phone and invitee["phone"] != phone:
            raise AppwriteError(409, "user_already_exists", "Given userId and phone doesn't match")
        return invitee
    if email:
        invitee = store.find_user_by_email(conn, email)
        if invitee is not None and phone and invitee["phone"] != phone:
            raise AppwriteError(409, "user_already_exists", "Given email and phone doesn't match")
        return invitee
    row = conn.execute("SELECT doc FROM aw_users WHERE phone = ?", (phone,)).fetchone()
    return loads(row["doc"]) if row else None
