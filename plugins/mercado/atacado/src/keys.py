"""API keys: the secret, its hash, and the stored record (core table ``api_keys``).

A key is ``bt_live_<43 url-safe characters>`` (or ``bt_test_…``): 32 random bytes, 256 bits. It is
shown once, when created or rotated. Only ``key_hash`` is stored: HMAC-SHA256 under a key derived from
``BIGTECH_SECRETS_KEY`` (so a copy of the table alone cannot even confirm a guessed key), or plain
SHA-256 when no secrets key is configured (the key's own entropy makes a dictionary attack pointless).
``prefix`` (``bt_live_AbCdEfGh``) is what lists show, to tell keys apart.
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

from bigtech import secrets_box
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

    id: str
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

    @classmethod
    def from_row(cls, row: Any) -> ApiKey:
        data = row.data
        return cls(
            id=row.id, tenant_id=data.get("tenant_id") or "", name=data.get("client_name") or "",
            prefix=data.get("prefix") or "", key_hash=data.get("key_hash") or "",
            scopes=_loads(data.get("scopes")), ip_allowlist=_loads(data.get("ip_allowlist")),
            environment=data.get("environment") or "live", tier=data.get("tier") or "",
            rate_limit_per_minute=int(data.get("rate_limit_per_minute") or 1),
            rate_limit_per_day=int(data.get("rate_limit_per_day") or 1),
            wallet_id=data.get("wallet_id") or "", created_by=data.get("created_by"),
            created_at=getattr(row, "createdat", None), expires_at=data.get("expires_at"),
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


def row_data(tenant_id: str, name: str, raw: str, *, scopes: list[str], ip_allowlist: list[str], environment: str,
             tier: str, per_minute: int, per_day: int, wallet_id: str, created_by: str,
             expires_at: str | None) -> dict[str, Any]:
    return {
        "tenant_id": tenant_id, "client_name": name, "key_hash": hash_secret(raw), "prefix": display_prefix(raw),
        "revoked": False, "scopes": json.dumps(scopes), "ip_allowlist": json.dumps(ip_allowlist),
        "environment": environment, "tier": tier, "rate_limit_per_minute": per_minute,
        "rate_limit_per_day": per_day, "wallet_id": wallet_id, "created_by": created_by, "expires_at": expires_at,
    }
