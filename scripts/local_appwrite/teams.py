"""The Teams service: teams and their memberships (API-key scopes ``teams.read`` / ``teams.write``).

Bigtech maps one tenant to one team, and a member's tenant role to membership roles. As on
Appwrite, a membership created with an API key is confirmed at once (no invitation e-mail), and an
e-mail that belongs to no user creates that user, with the e-mail as its name unless ``name`` is given.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

from .common import dumps, loads, now_iso, resolve_id
from .errors import AppwriteError
from .http import Request, Response, Router
from .users import store
from .users.query import Schema, run_list
from .users.routes import MEMBERSHIP_SCHEMA, created, no_content, present

if TYPE_CHECKING:
    from .app import LocalAppwrite

TEAM_SCHEMA = Schema(frozenset({"name", "total", "billingPlan"}))


def register(stack: LocalAppwrite, router: Router) -> None:
    storage = stack.storage
    store.migrate(storage)

    def list_teams(request: Request) -> dict:
        with storage.read() as conn:
            rows = conn.execute("SELECT doc FROM aw_teams ORDER BY seq").fetchall()
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
            return store.team_public(conn, store.require_team(conn, teamId))

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
            return store.require_team(conn, teamId)["prefs"]

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
            store.require_team(conn, teamId)
            memberships = store.memberships_where(conn, "team_id", teamId)
        return run_list(
            memberships, request.param("queries"), MEMBERSHIP_SCHEMA, search=request.param("search"),
            search_text=store.membership_search_text, total=request.param("total", True), key="memberships",
        )

    def create_membership(request: Request, teamId: str) -> Response:  # noqa: N803
        roles = store.valid_roles(present(request, "roles"))
        user_id = request.param("userId") or ""
        email = store.valid_email(request.param("email"), allow_empty=True) or ""
        phone = store.valid_phone(request.param("phone"), allow_empty=True) or ""
        name = store.valid_name(request.param("name")) or email
        membership_id = resolve_id(request.param("membershipId"), "`membershipId` param")
        if not (user_id or email or phone):
            raise AppwriteError(
                400, "general_argument_invalid", "At least one of userId, email, or phone is required"
            )
        with storage.write() as conn:
            team = store.require_team(conn, teamId)
            invitee = _find_invitee(conn, user_id, email, phone)
            if invitee is None:
                invitee = store.new_user(resolve_id(None), email=email, phone=phone, name=name, password=None)
                store.insert_user(conn, invitee)
            existing = conn.execute(
                "SELECT doc FROM aw_memberships WHERE team_id = ? AND user_id = ?", (teamId, invitee["$id"])
            ).fetchone()
            now = now_iso()
            if existing is None:
                doc = {
                    "$id": membership_id, "$createdAt": now, "$updatedAt": now, "userId": invitee["$id"],
                    "teamId": team["$id"], "invited": now, "joined": now, "confirm": True, "roles": roles,
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
            elif not loads(existing["doc"]).get("confirm"):
                doc = {**loads(existing["doc"]), "$updatedAt": now, "invited": now, "joined": now, "confirm": True}
                conn.execute("UPDATE aw_memberships SET doc = ? WHERE id = ?", (dumps(doc), doc["$id"]))
            else:
                raise AppwriteError(409, "membership_already_confirmed", "Membership is already confirmed.")
            body = store.membership_public(conn, doc)
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
            return store.membership_public(conn, load_membership(conn, teamId, membershipId))

    def update_membership(request: Request, teamId: str, membershipId: str) -> dict:  # noqa: N803
        roles = store.valid_roles(present(request, "roles"))
        with storage.write() as conn:
            doc = load_membership(conn, teamId, membershipId)
            doc.update(roles=roles, **{"$updatedAt": now_iso()})
            conn.execute("UPDATE aw_memberships SET doc = ? WHERE id = ?", (dumps(doc), membershipId))
            body = store.membership_public(conn, doc)
        stack.events.publish([f"teams.{teamId}.memberships.{membershipId}.update"], body)
        return body

    def delete_membership(request: Request, teamId: str, membershipId: str) -> Response:  # noqa: N803
        with storage.write() as conn:
            body = store.membership_public(conn, load_membership(conn, teamId, membershipId))
            conn.execute("DELETE FROM aw_memberships WHERE id = ?", (membershipId,))
        stack.events.publish([f"teams.{teamId}.memberships.{membershipId}.delete"], body)
        return no_content()

    read, write = {"scope": "teams.read"}, {"scope": "teams.write"}
    router.add("GET", "/teams", list_teams, **read)
    router.add("POST", "/teams", create_team, **write)
    router.add("GET", "/teams/{teamId}", get_team, **read)
    router.add("PUT", "/teams/{teamId}", update_team_name, **write)
    router.add("DELETE", "/teams/{teamId}", delete_team, **write)
    router.add("GET", "/teams/{teamId}/prefs", get_prefs, **read)
    router.add("PUT", "/teams/{teamId}/prefs", update_prefs, **write)
    router.add("GET", "/teams/{teamId}/memberships", list_memberships, **read)
    router.add("POST", "/teams/{teamId}/memberships", create_membership, **write)
    router.add("GET", "/teams/{teamId}/memberships/{membershipId}", get_membership, **read)
    router.add("PATCH", "/teams/{teamId}/memberships/{membershipId}", update_membership, **write)
    router.add("DELETE", "/teams/{teamId}/memberships/{membershipId}", delete_membership, **write)


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
