"""Storage of the identity services: users, their sessions, teams and memberships.

Users, Teams and Account share these four tables, so they live in one place. Each row keeps the
document Appwrite would return as JSON (``doc``) plus the columns that must be unique or joined on.
``UNIQUE`` constraints, checked inside :meth:`Storage.write`, are what make "20 concurrent creates
with the same email → exactly one user" hold. Tables are prefixed ``aw_`` so they never collide
with TablesDB's row tables in the same SQLite file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

from ..common import dumps, loads, now_iso, resolve_id
from ..errors import AppwriteError
from ..storage import Storage

DDL = """
CREATE TABLE IF NOT EXISTS aw_users (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    email TEXT UNIQUE,
    phone TEXT UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aw_sessions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL REFERENCES aw_users(id) ON DELETE CASCADE,
    secret_hash TEXT NOT NULL UNIQUE,
    expire TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aw_sessions_user ON aw_sessions(user_id);
CREATE TABLE IF NOT EXISTS aw_teams (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aw_memberships (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    team_id TEXT NOT NULL REFERENCES aw_teams(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES aw_users(id) ON DELETE CASCADE,
    doc TEXT NOT NULL,
    UNIQUE (team_id, user_id)
);
CREATE INDEX IF NOT EXISTS aw_memberships_user ON aw_memberships(user_id);
"""

# scrypt cost as Appwrite reports it in ``hashOptions`` (costCpu = N, costMemory = r, costParallel = p).
SCRYPT_OPTIONS = {"type": "scrypt", "costCpu": 16384, "costMemory": 8, "costParallel": 1, "length": 64}
SESSION_SECONDS = 365 * 24 * 3600  # Appwrite's default session length: one year
PRIVATE_USER_FIELDS = ("password", "hash", "hashOptions")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_LABEL = re.compile(r"^[A-Za-z0-9]{1,36}$")
_ROLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,80}$")


def migrate(storage: Storage) -> None:
    storage.migrate(DDL)


# --- validation ---------------------------------------------------------------------------------


def bad_param(name: str, detail: str) -> AppwriteError:
    return AppwriteError(400, "general_argument_invalid", f"Invalid `{name}` param: {detail}")


def valid_email(value: Any, *, allow_empty: bool = False) -> str | None:
    if value in (None, "") and allow_empty:
        return None
    if not isinstance(value, str) or len(value) > 255 or not _EMAIL.match(value):
        raise bad_param("email", "Value must be a valid email address")
    return value.lower()


def valid_phone(value: Any, *, allow_empty: bool = False) -> str | None:
    if value in (None, "") and allow_empty:
        return None
    if not isinstance(value, str) or not _PHONE.match(value):
        raise bad_param(
            "phone", "Phone number must start with a '+' can have a maximum of fifteen digits."
        )
    return value


def valid_password(value: Any) -> str:
    if not isinstance(value, str) or not 8 <= len(value) <= 256:
        raise bad_param("password", "Password must be between 8 and 256 characters long.")
    return value


def valid_name(value: Any, *, param: str = "name") -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 128:
        raise bad_param(param, "Value must be a valid string and no longer than 128 chars")
    return value


def valid_labels(value: Any) -> list[str]:
    valid = isinstance(value, list) and len(value) <= 1000
    if not valid or not all(isinstance(v, str) and _LABEL.match(v) for v in value):
        raise bad_param(
            "labels",
            "Value must a valid array no longer than 1000 items and Value must be a valid string and at least 1 "
            "chars and no longer than 36 chars and only contain alphanumeric chars",
        )
    return list(dict.fromkeys(value))  # Appwrite keeps the first of each duplicate, in order


def valid_roles(value: Any) -> list[str]:
    if not isinstance(value, list) or len(value) > 100 or not all(isinstance(v, str) and _ROLE.match(v) for v in value):
        raise bad_param(
            "roles",
            "Value must a valid array no longer than 100 items and Parameter must contain at most 81 chars. Valid "
            "chars are a-z, A-Z, 0-9, period, hyphen, and underscore. Can't start with a special char",
        )
    return value


def valid_prefs(value: Any) -> dict:
    if isinstance(value, list) and not value:
        value = {}  # PHP serializes an empty object as []
    if not isinstance(value, dict) or len(dumps(value)) > 65535:
        raise bad_param("prefs", "Value must be a valid object and no longer than 65535 chars")
    return value


def valid_duration(value: Any, default: int = 900) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 3600:
        raise bad_param("duration", "Value must be a valid range between 0 and 3,600")
    return value


# --- passwords ----------------------------------------------------------------------------------


def hash_password(password: str) -> tuple[str, str]:
    """scrypt with a random salt → (hash, salt), both base64. Slow on purpose: call outside write()."""
    salt = secrets.token_bytes(16)
    derived = _scrypt(password, salt)
    return base64.b64encode(derived).decode(), base64.b64encode(salt).decode()


def verify_password(doc: dict, password: str) -> bool:
    stored, salt = doc.get("password"), doc.get("_salt")
    if not stored or not salt or not isinstance(password, str):
        return False
    derived = _scrypt(password, base64.b64decode(salt))
    return hmac.compare_digest(base64.b64encode(derived).decode(), stored)


def _scrypt(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        password.encode(),
        salt=salt,
        n=SCRYPT_OPTIONS["costCpu"],
        r=SCRYPT_OPTIONS["costMemory"],
        p=SCRYPT_OPTIONS["costParallel"],
        dklen=SCRYPT_OPTIONS["length"],
        maxmem=64 * 1024 * 1024,
    )


# --- users --------------------------------------------------------------------------------------


def user_not_found() -> AppwriteError:
    return AppwriteError(404, "user_not_found", "User with the requested ID could not be found.")


def new_user(
    user_id: str, *, email: str | None, phone: str | None, name: str, password: tuple[str, str] | None
) -> dict:
    now = now_iso()
    doc = {
        "$id": user_id,
        "$createdAt": now,
        "$updatedAt": now,
        "name": name,
        "password": password[0] if password else None,
        "hash": SCRYPT_OPTIONS["type"],
        "hashOptions": {k: v for k, v in SCRYPT_OPTIONS.items()},
        "registration": now,
        "status": True,
        "labels": [],
        "passwordUpdate": now if password else "",
        "email": email or "",
        "phone": phone or "",
        "emailVerification": False,
        "phoneVerification": False,
        "mfa": False,
        "prefs": {},
        "targets": [],
        "accessedAt": "",
        "_salt": password[1] if password else None,
    }
    sync_targets(doc)
    return doc


def sync_targets(doc: dict) -> None:
    """Appwrite keeps one messaging target per email and phone; keep them in step with the user."""
    now = now_iso()
    wanted = {"email": doc.get("email") or "", "sms": doc.get("phone") or ""}
    kept = []
    for provider_type, identifier in wanted.items():
        current = next((t for t in doc.get("targets", []) if t["providerType"] == provider_type), None)
        if not identifier:
            continue
        if current is None:
            current = {"$id": resolve_id(None), "$createdAt": now, "name": "", "userId": doc["$id"],
                       "providerId": None, "providerType": provider_type, "expired": False}
        if current.get("identifier") != identifier:
            current = {**current, "identifier": identifier, "$updatedAt": now}
        kept.append(current)
    doc["targets"] = kept


def user_public(doc: dict, *, account: bool = False) -> dict:
    """The User model: private columns dropped; the Account view also hides the password hash."""
    hidden = PRIVATE_USER_FIELDS if account else ()
    return {k: v for k, v in doc.items() if not k.startswith("_") and k not in hidden}


def load_user(conn: sqlite3.Connection, user_id: str) -> dict | None:
    row = conn.execute("SELECT doc FROM aw_users WHERE id = ?", (user_id,)).fetchone()
    return loads(row["doc"]) if row else None


def require_user(conn: sqlite3.Connection, user_id: str) -> dict:
    doc = load_user(conn, user_id)
    if doc is None:
        raise user_not_found()
    return doc


def find_user_by_email(conn: sqlite3.Connection, email: str) -> dict | None:
    row = conn.execute("SELECT doc FROM aw_users WHERE email = ?", (email.lower(),)).fetchone()
    return loads(row["doc"]) if row else None


def all_users(conn: sqlite3.Connection) -> list[dict]:
    return [loads(r["doc"]) for r in conn.execute("SELECT doc FROM aw_users ORDER BY seq")]


def insert_user(conn: sqlite3.Connection, doc: dict) -> None:
    try:
        conn.execute(
            "INSERT INTO aw_users (id, email, phone, doc) VALUES (?, ?, ?, ?)",
            (doc["$id"], doc["email"] or None, doc["phone"] or None, dumps(doc)),
        )
    except sqlite3.IntegrityError:
        raise AppwriteError(
            409, "user_already_exists", "A user with the same id, email, or phone already exists in this project."
        ) from None


def save_user(conn: sqlite3.Connection, doc: dict, *, touch: bool = True) -> None:
    if touch:
        doc["$updatedAt"] = now_iso()
    conn.execute(
        "UPDATE aw_users SET email = ?, phone = ?, doc = ? WHERE id = ?",
        (doc["email"] or None, doc["phone"] or None, dumps(doc), doc["$id"]),
    )


def user_search_text(doc: dict) -> str:
    return " ".join(str(doc.get(k) or "") for k in ("$id", "email", "phone", "name"))


# --- sessions -----------------------------------------------------------------------------------


def session_not_found() -> AppwriteError:
    return AppwriteError(404, "user_session_not_found", "The current user session could not be found.")


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_session(
    conn: sqlite3.Connection, user_id: str, *, provider: str, ip: str = "", seconds: int = SESSION_SECONDS
) -> tuple[dict, str]:
    """Store a new session and return it with its secret (the only time the secret exists in clear)."""
    now = datetime.now(UTC)
    expire = (now + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")
    secret = base64.b64encode(dumps({"id": user_id, "secret": secrets.token_hex(64)}).encode()).decode()
    created = now.isoformat(timespec="milliseconds")
    doc = {
        "$id": resolve_id(None), "$createdAt": created, "$updatedAt": created, "userId": user_id,
        "expire": expire, "provider": provider, "providerUid": "", "providerAccessToken": "",
        "providerAccessTokenExpiry": "", "providerRefreshToken": "", "ip": ip, "osCode": "", "osName": "",
        "osVersion": "", "clientType": "", "clientCode": "", "clientName": "", "clientVersion": "",
        "clientEngine": "", "clientEngineVersion": "", "deviceName": "", "deviceBrand": "", "deviceModel": "",
        "countryCode": "--", "countryName": "Unknown", "current": False, "factors": ["password"] if
        provider == "email" else [], "secret": "", "mfaUpdatedAt": "",
    }
    conn.execute(
        "INSERT INTO aw_sessions (id, user_id, secret_hash, expire, doc) VALUES (?, ?, ?, ?, ?)",
        (doc["$id"], user_id, secret_hash(secret), expire, dumps(doc)),
    )
    return doc, secret


def session_by_secret(conn: sqlite3.Connection, secret: str) -> dict | None:
    row = conn.execute(
        "SELECT doc FROM aw_sessions WHERE secret_hash = ? AND expire > ?", (secret_hash(secret), now_iso())
    ).fetchone()
    return loads(row["doc"]) if row else None


def load_session(conn: sqlite3.Connection, session_id: str) -> dict | None:
    row = conn.execute("SELECT doc FROM aw_sessions WHERE id = ? AND expire > ?", (session_id, now_iso())).fetchone()
    return loads(row["doc"]) if row else None


def sessions_of(conn: sqlite3.Connection, user_id: str) -> list[dict]:
    rows = conn.execute(
        "SELECT doc FROM aw_sessions WHERE user_id = ? AND expire > ? ORDER BY seq", (user_id, now_iso())
    )
    return [loads(r["doc"]) for r in rows]


def session_public(doc: dict, current_id: str | None = None, secret: str = "") -> dict:
    return {**doc, "current": doc["$id"] == current_id, "secret": secret}


# --- teams and memberships ----------------------------------------------------------------------


def team_not_found() -> AppwriteError:
    return AppwriteError(404, "team_not_found", "Team with the requested ID could not be found.")


def membership_not_found() -> AppwriteError:
    return AppwriteError(404, "membership_not_found", "Membership with the requested ID could not be found.")


def load_team(conn: sqlite3.Connection, team_id: str) -> dict | None:
    row = conn.execute("SELECT doc FROM aw_teams WHERE id = ?", (team_id,)).fetchone()
    return loads(row["doc"]) if row else None


def require_team(conn: sqlite3.Connection, team_id: str) -> dict:
    doc = load_team(conn, team_id)
    if doc is None:
        raise team_not_found()
    return doc


def team_public(conn: sqlite3.Connection, doc: dict) -> dict:
    """Team model; ``total`` counts confirmed members, as Appwrite's counter does."""
    row = conn.execute(
        "SELECT COUNT(*) AS n FROM aw_memberships WHERE team_id = ? AND json_extract(doc, '$.confirm') = 1",
        (doc["$id"],),
    ).fetchone()
    return {**doc, "total": row["n"]}


def membership_public(conn: sqlite3.Connection, doc: dict) -> dict:
    """Membership model, with the user's and team's current names joined in."""
    user = load_user(conn, doc["userId"]) or {}
    team = load_team(conn, doc["teamId"]) or {}
    return {
        **{k: v for k, v in doc.items() if not k.startswith("_")},  # ``_secret``: the invitation's hash
        "userName": user.get("name", ""),
        "userEmail": user.get("email", ""),
        "userPhone": user.get("phone", ""),
        "teamName": team.get("name", ""),
        "mfa": bool(user.get("mfa", False)),
        "userAccessedAt": user.get("accessedAt", ""),
    }


def memberships_where(conn: sqlite3.Connection, column: str, value: str) -> list[dict]:
    assert column in {"team_id", "user_id"}
    rows = conn.execute(f"SELECT doc FROM aw_memberships WHERE {column} = ? ORDER BY seq", (value,))
    return [membership_public(conn, loads(r["doc"])) for r in rows]


def membership_search_text(doc: dict) -> str:
    """Appwrite indexes a membership's search text as ``"<membershipId> <userId>"`` only."""
    return f"{doc['$id']} {doc['userId']}"
