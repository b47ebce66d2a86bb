"""Who is calling: the project's API key, a function's ephemeral key, or a user's JWT.

Appwrite authenticates every request by one of three credentials, and so does the local stack:

* ``x-appwrite-key: <APPWRITE_API_KEY>`` - the dev key, every scope;
* ``x-appwrite-key: ephemeral_<jwt>`` - minted per execution, limited to the function's ``scopes``
  and expiring after the function's ``timeout`` + 60 s, as Appwrite's dynamic keys do;
* ``x-appwrite-jwt: <jwt>`` - a user's JWT from ``Users.create_jwt`` (15 minutes);
* ``x-appwrite-session: <secret>`` (or the Web SDK's fallback cookie) - a user's session from
  ``Account.create_email_password_session``; the account service installs :attr:`Credentials.session_resolver`.

Both JWT kinds are HS256 tokens signed with a secret kept in the data directory, so they survive
a restart of the stack exactly as long as they would on a real server.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jwt

from .errors import AppwriteError

# A route declares its scope by its 1.9 name; 1.9 labels many routes with a list of scopes, any one
# of which lets a key in (``app/controllers/shared/api.php``: ``array_intersect``). These are those
# lists, for the routes the stack serves: the deprecated Databases names (collections, attributes,
# documents) and ``execution.*`` still work, and the table scopes also cover columns and indexes.
ACCEPTED_SCOPES: dict[str, frozenset[str]] = {
    "tables.read": frozenset({"tables.read", "collections.read"}),
    "tables.write": frozenset({"tables.write", "collections.write"}),
    "columns.read": frozenset({"tables.read", "collections.read", "columns.read", "attributes.read"}),
    "columns.write": frozenset({"tables.write", "collections.write", "columns.write", "attributes.write"}),
    "indexes.read": frozenset({"tables.read", "collections.read", "indexes.read"}),
    "indexes.write": frozenset({"tables.write", "collections.write", "indexes.write"}),
    "rows.read": frozenset({"rows.read", "documents.read"}),
    "rows.write": frozenset({"rows.write", "documents.write"}),
    "executions.read": frozenset({"executions.read", "execution.read"}),
    "executions.write": frozenset({"executions.write", "execution.write"}),
}
ALL_SCOPES = frozenset(
    {
        "databases.read", "databases.write", "tables.read", "tables.write", "columns.read",
        "columns.write", "indexes.read", "indexes.write", "rows.read", "rows.write",
        "collections.read", "collections.write", "attributes.read", "attributes.write",
        "documents.read", "documents.write", "users.read", "users.write", "sessions.read", "sessions.write",
        "teams.read", "teams.write", "functions.read", "functions.write", "execution.read", "execution.write",
        "executions.read", "executions.write", "health.read", "rules.read",
        "buckets.read", "buckets.write", "files.read", "files.write",
    }
)


def accepted_scopes(scope: str) -> frozenset[str]:
    """Every scope that satisfies a route declared with ``scope`` (itself and its 1.9 aliases)."""
    return ACCEPTED_SCOPES.get(scope, frozenset({scope}))


EPHEMERAL_PREFIX = "ephemeral_"
USER_JWT_SECONDS = 15 * 60
# Verified tokens kept (token -> claims): a function's ephemeral key makes every API call of its execution,
# and checking its signature again each time was a tenth of the stack's CPU per call. Expiry is still checked
# on every use; only the signature check is remembered, which cannot change for the same token and secret.
VERIFIED_TOKENS_KEPT = 1024


@dataclass(frozen=True)
class Caller:
    """The authenticated party of one request."""

    kind: str  # "key" | "ephemeral" | "user" | "guest"
    scopes: frozenset[str] = field(default_factory=frozenset)
    user_id: str | None = None
    function_id: str | None = None
    execution_id: str | None = None  # an ephemeral key's execution: a function calling the API
    jwt: str | None = None
    session_id: str | None = None  # the user's session (from the session secret or the JWT's claim)

    @property
    def is_key(self) -> bool:
        return self.kind in {"key", "ephemeral"}

    @property
    def role_name(self) -> str:
        return {"key": "apps", "ephemeral": "apps", "user": "users"}.get(self.kind, "guests")


class Credentials:
    """Mints and checks the stack's keys and JWTs."""

    def __init__(self, project_id: str, api_key: str, secret_file: Path) -> None:
        self.project_id = project_id
        self.api_key = api_key
        self._secret = _load_or_create_secret(secret_file)
        self._verified: dict[str, dict] = {}  # token -> claims, insertion order (oldest dropped first)
        self._verified_lock = threading.Lock()
        # Set by the account service: request headers → (user_id, session_id) of a live session, or None.
        self.session_resolver: Callable[[dict[str, str]], tuple[str, str] | None] | None = None

    def mint_ephemeral_key(self, function_id: str, scopes: list[str], lifetime_seconds: int, execution_id: str) -> str:
        claims = {
            "projectId": self.project_id,
            "functionId": function_id,
            "executionId": execution_id,
            "scopes": sorted(set(scopes)),
            "exp": int(time.time()) + lifetime_seconds,
        }
        return EPHEMERAL_PREFIX + jwt.encode(claims, self._secret, algorithm="HS256")

    def mint_user_jwt(self, user_id: str, session_id: str = "", duration: int = USER_JWT_SECONDS) -> str:
        claims = {"userId": user_id, "sessionId": session_id, "exp": int(time.time()) + duration}
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def identify(self, headers: dict[str, str]) -> Caller:
        key = headers.get("x-appwrite-key")
        if key:
            return self._from_key(key)
        token = headers.get("x-appwrite-jwt")
        if token:
            return self._from_user_jwt(token)
        session = self.session_resolver(headers) if self.session_resolver else None
        if session:
            return Caller("user", frozenset(), user_id=session[0], session_id=session[1])
        return Caller("guest")  # like Appwrite, an unknown or expired session is simply a guest

    def _from_key(self, key: str) -> Caller:
        if key.startswith(EPHEMERAL_PREFIX):
            claims = self._decode(key[len(EPHEMERAL_PREFIX):], "user_unauthorized", "Invalid or expired API key.")
            if claims.get("projectId") != self.project_id:
                raise AppwriteError(401, "user_unauthorized", "The API key belongs to another project.")
            return Caller("ephemeral", frozenset(claims.get("scopes", [])), function_id=claims.get("functionId"),
                          execution_id=claims.get("executionId"))
        if hmac.compare_digest(key.encode(), self.api_key.encode()):
            return Caller("key", ALL_SCOPES)
        raise AppwriteError(
            401, "user_unauthorized", "The current user is not authorized to perform the requested action."
        )

    def _from_user_jwt(self, token: str) -> Caller:
        claims = self._decode(token, "user_jwt_invalid", "The JWT token is invalid or expired.")
        user_id = claims.get("userId")
        if not user_id:
            raise AppwriteError(401, "user_jwt_invalid", "The JWT token is invalid.")
        return Caller("user", frozenset(), user_id=user_id, jwt=token, session_id=claims.get("sessionId") or None)

    def _decode(self, token: str, type_: str, message: str) -> dict:
        claims = self._verified.get(token)
        if claims is not None:
            exp = claims.get("exp")
            # PyJWT's rule (no leeway): expired once ``exp <= now``
            if not isinstance(exp, int | float) or exp > time.time():
                return claims
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            raise AppwriteError(401, type_, message) from None
        with self._verified_lock:
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = claims
        return claims


def authorize(caller: Caller, scope: str | None, users_allowed: bool) -> None:
    """Raise 401 unless ``caller`` may use a route needing ``scope``."""
    if scope is None and not users_allowed:
        return
    if caller.kind == "user" and users_allowed:
        return
    if caller.is_key and scope is not None and caller.scopes & accepted_scopes(scope):
        return
    if caller.is_key and scope is None:
        return
    wanted = sorted(accepted_scopes(scope)) if scope else ["account"]
    raise AppwriteError(
        401,
        "general_unauthorized_scope",
        f"{caller.role_name} (role: {caller.role_name}) missing scopes ({json.dumps(wanted)})",
    )


def _load_or_create_secret(path: Path) -> bytes:
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    path.write_bytes(secret)
    return secret
