"""API keys: the secret, its hash, and the stored record (core table ``api_keys``).

A key is ``bt_live_<43 url-safe characters>`` (or ``bt_test_…``): 32 random bytes, 256 bits. It is
shown once, when created or rotated. Only ``key_hash`` is stored: HMAC-SHA256 under a key derived from
``BIGTECH_SECRETS_KEY`` (so a copy of the table alone cannot even confirm a guessed key), or plain
SHA-256 when no secrets key is configured (the key's own entropy makes a dictionary attack pointless).
``prefix`` (``bt_live_AbCdEfGh``) is what lists show, to tell keys apart.

The row's id is derived from ``key_hash`` (``row_id_for``), so only the secret's holder can name it: the
gate reads the key *and* counts its minute in one atomic increment on that row (``limits.claim_minute``).
The key's public id — in ``/keys/{id}``, ``apikey:<id>``, consultas, audit, events — is the ``key_id``
column. Rotation moves the key to the new secret's row (one transaction), so the old secret names no row.
A key stored before (row id = public id, no ``key_id``) is moved on its first use (``adopt_legacy``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query

from bigtech import secrets_box, uow
from bigtech.market import parse_time
from bigtech.schema.core import CORE_DATABASE_ID

TABLE = "api_keys"
DATABASE = CORE_DATABASE_ID
ENVIRONMENTS = ("live", "test")
SECRET_BYTES = 32
PREFIX_LENGTH = 16  # "bt_live_" + 8 characters of the secret
CATEGORIES = ("credito", "cadastral", "veicular")
# What a key may do: run consultas of a category, read its own consultas, the wallet, its usage.
SCOPES = (*(f"consultas:{c}" for c in CATEGORIES), "consultas:read", "balance:read", "usage:read")
HASH_CONTEXT = b"bigtech-api-key-hash"


def new_secret(environment: str) -> str:
    return f"bt_{environment}_{secrets.token_urlsafe(SECRET_BYTES)}"


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def seal_webhook_secret(key_id: str, secret: str) -> str:
    return secrets_box.seal({"webhook_secret": secret}, f"api_key/{key_id}")


def open_webhook_secret(key_id: str, sealed: str | None) -> str | None:
    return secrets_box.open_sealed(sealed, f"api_key/{key_id}").get("webhook_secret") if sealed else None


def looks_like_key(raw: str) -> bool:
    return raw.startswith(("bt_live_", "bt_test_")) and 40 <= len(raw) <= 128 and raw.isascii()


def _hash_key() -> bytes | None:
    try:
        return hmac.new(secrets_box.load_key(), HASH_CONTEXT, hashlib.sha256).digest()
    except secrets_box.SecretsKeyMissing:
        return None


def hash_secret(raw: str) -> str:
    key = _hash_key()
    if key is None:
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()
    return hmac.new(key, raw.encode("utf-8"), hashlib.sha256).hexdigest()


def row_id_for(key_hash: str) -> str:
    """The id of the row that stores the key whose secret hashes to ``key_hash`` (36 characters)."""
    return "k" + hashlib.sha256(f"api-key-row:{key_hash}".encode()).hexdigest()[:35]


def display_prefix(raw: str) -> str:
    return raw[:PREFIX_LENGTH]


def ip_allowed(allowlist: list[str], ip: str | None) -> bool:
    """An empty list allows every address; otherwise the caller's address must be in one of the networks."""
    if not allowlist:
        return True
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in allowlist)


def _loads(text: Any) -> list[str]:
    try:
        value = json.loads(text) if text else []
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


@dataclass(frozen=True)
class ApiKey:
    """One stored key (never the secret)."""

    id: str  # the public id (``key_id``); the row's own id is ``row_id``
    tenant_id: str
    name: str
    prefix: str
    key_hash: str
    scopes: list[str]
    ip_allowlist: list[str]
    environment: str
    tier: str
    rate_limit_per_minute: int
    rate_limit_per_day: int
    wallet_id: str
    created_by: str | None
    created_at: str | None
    expires_at: str | None
    last_used_at: str | None
    revoked: bool
    revoked_at: str | None
    rotated_at: str | None
    webhook_secret_sealed: str | None = None
    row_id: str = ""

    @classmethod
    def from_row(cls, row: Any) -> ApiKey:
        data = row.data
        return cls(
            id=data.get("key_id") or row.id, row_id=row.id, tenant_id=data.get("tenant_id") or "",
            name=data.get("client_name") or "",
            prefix=data.get("prefix") or "", key_hash=data.get("key_hash") or "",
            scopes=_loads(data.get("scopes")), ip_allowlist=_loads(data.get("ip_allowlist")),
            environment=data.get("environment") or "live", tier=data.get("tier") or "",
            rate_limit_per_minute=int(data.get("rate_limit_per_minute") or 1),
            rate_limit_per_day=int(data.get("rate_limit_per_day") or 1),
            wallet_id=data.get("wallet_id") or "", created_by=data.get("created_by"),
            created_at=data.get("created_at") or getattr(row, "createdat", None), expires_at=data.get("expires_at"),
            last_used_at=data.get("last_used_at"), revoked=bool(data.get("revoked")),
            revoked_at=data.get("revoked_at"), rotated_at=data.get("rotated_at"),
            webhook_secret_sealed=data.get("webhook_secret"),
        )

    def expired(self, now: datetime | None = None) -> bool:
        expires = parse_time(self.expires_at)
        return expires is not None and expires <= (now or datetime.now(UTC))

    @property
    def status(self) -> str:
        return "revoked" if self.revoked else ("expired" if self.expired() else "active")

    def to_public(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "prefix": self.prefix, "environment": self.environment,
            "status": self.status, "scopes": self.scopes, "ip_allowlist": self.ip_allowlist, "tier": self.tier,
            "rate_limit_per_minute": self.rate_limit_per_minute, "rate_limit_per_day": self.rate_limit_per_day,
            "wallet_id": self.wallet_id, "created_by": self.created_by, "created_at": self.created_at,
            "expires_at": self.expires_at, "last_used_at": self.last_used_at, "revoked_at": self.revoked_at,
            "rotated_at": self.rotated_at,
        }


STORED = ("key_id", "key_hash", "tenant_id", "client_name", "prefix", "revoked", "scopes", "ip_allowlist",
          "environment", "tier", "rate_limit_per_minute", "rate_limit_per_day", "wallet_id", "created_by",
          "created_at", "expires_at", "last_used_at", "revoked_at", "rotated_at", "webhook_secret", "minute_slots")


def load(tables: Any, key_id: str) -> Any:
    """The row of the key whose public id is ``key_id`` (404 ``AppwriteException`` when there is none)."""
    rows = tables.list_rows(DATABASE, TABLE, [Query.equal("key_id", [key_id]), Query.limit(1)], total=False).rows
    if rows:
        return rows[0]
    row = tables.get_row(DATABASE, TABLE, key_id)  # a key not moved yet: its row id is its id
    if row.data.get("key_id"):  # a moved key's row is never named by its row id
        raise AppwriteException("Row with the requested ID could not be found.", 404, "row_not_found")
    return row


def moved(row: Any, changes: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(new row id, data) of ``row`` with ``changes`` (a new ``key_hash`` on rotation), keeping its public id,
    creation time and this minute's count."""
    data = {name: row.data.get(name) for name in STORED if row.data.get(name) is not None}
    data.update({"key_id": row.data.get("key_id") or row.id,
                 "created_at": row.data.get("created_at") or getattr(row, "createdat", None), **changes})
    return row_id_for(data["key_hash"]), data


def adopt_legacy(tables: Any, key_hash: str) -> bool:
    """Move a key stored before row ids were derived from the hash to its derived row; False if none."""
    rows = tables.list_rows(DATABASE, TABLE, [Query.equal("key_hash", [key_hash]), Query.limit(1)],
                            total=False).rows
    if not rows or not hmac.compare_digest(rows[0].data.get("key_hash") or "", key_hash):
        return False
    new_id, data = moved(rows[0], {})
    if new_id == rows[0].id:
        return True

    def build(unit: uow.UnitOfWork) -> None:
        unit.delete(DATABASE, TABLE, rows[0].id)
        unit.create(DATABASE, TABLE, new_id, data)

    try:
        uow.run(tables, build)
    except AppwriteException as error:  # a concurrent first request moved it already
        if error.code not in (404, 409):
            raise
    return True


def row_data(key_id: str, tenant_id: str, name: str, raw: str, *, scopes: list[str], ip_allowlist: list[str],
             environment: str, tier: str, per_minute: int, per_day: int, wallet_id: str, created_by: str,
             expires_at: str | None) -> dict[str, Any]:
    return {
        "key_id": key_id, "created_at": datetime.now(UTC).isoformat(timespec="milliseconds"), "tenant_id": tenant_id,
        "client_name": name, "key_hash": hash_secret(raw), "prefix": display_prefix(raw),
        "revoked": False, "scopes": json.dumps(scopes), "ip_allowlist": json.dumps(ip_allowlist),
        "environment": environment, "tier": tier, "rate_limit_per_minute": per_minute,
        "rate_limit_per_day": per_day, "wallet_id": wallet_id, "created_by": created_by, "expires_at": expires_at,
    }
