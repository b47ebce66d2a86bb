"""Bodies of the key-management routes (invalid → 422 with field errors, nothing changed)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from .keys import SCOPES

MAX_ALLOWLIST = 32


def _scopes(value: list[str]) -> list[str]:
    unknown = [scope for scope in value if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {unknown}; known: {', '.join(SCOPES)}")
    return sorted(set(value))


def _networks(value: list[str]) -> list[str]:
    networks = []
    for item in value:
        try:
            networks.append(str(ipaddress.ip_network(item.strip(), strict=False)))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return sorted(set(networks))


def _future(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    if moment <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return moment.astimezone(UTC)


class KeyLimits(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    tier: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    rate_limit_per_minute: StrictInt | None = Field(None, ge=1, le=100_000)
    rate_limit_per_day: StrictInt | None = Field(None, ge=1, le=100_000_000)
    ip_allowlist: list[str] | None = Field(None, max_length=MAX_ALLOWLIST)
    expires_at: datetime | None = None

    _check_ips = field_validator("ip_allowlist")(lambda cls, v: None if v is None else _networks(v))
    _check_expiry = field_validator("expires_at")(lambda cls, v: _future(v))


class CreateKey(KeyLimits):
    """``POST /keys``: only ``name`` and ``scopes`` are required."""

    name: str = Field(min_length=1, max_length=128)
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES))
    environment: Literal["live", "test"] | None = None

    _check_scopes = field_validator("scopes")(lambda cls, v: _scopes(v))


class UpdateKey(KeyLimits):
    """``PATCH /keys/{id}``: the fields sent change; ``null`` clears the allow-list or the expiry."""

    name: str | None = Field(None, min_length=1, max_length=128)
    scopes: list[str] | None = Field(None, min_length=1, max_length=len(SCOPES))

    _check_scopes = field_validator("scopes")(lambda cls, v: None if v is None else _scopes(v))
