"""The hash chain of an audit trail: canonical JSON, entry hashes and the genesis link.

An entry is written in two steps (see ``bigtech.audit.writer``): first *unsealed*, with its own random
row id (the ``audit_id`` routes return) and its content but no ``seq``/``prev_hash``/``hash``; then
*sealed*, when a sealer gives it the next sequence number and hashes it into the chain. In memory an
unsealed entry has ``seq == 0``; stored, its three chain columns are null.

Every sealed entry carries its sequence number (1, 2, 3… with no gaps), the previous entry's hash and its
own hash = SHA-256 over the canonical JSON of the entry *without* ``hash`` (so ``seq`` and
``prev_hash`` are covered). Canonical JSON is sorted keys, no spaces, UTF-8 (``ensure_ascii=False``),
so the same entry hashes the same on any machine.

The values hashed are the values *as stored*: ``details`` is the JSON string written to the row and
``occurred_at`` is normalised to Appwrite's datetime form (UTC, milliseconds, ``+00:00``) before
hashing, because Appwrite hands datetimes back in that form whatever form they were written in.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64

# The row columns an entry is made of, in the order the CSV export writes them.
FIELDS = (
    "seq", "prev_hash", "hash", "action", "actor", "actor_role", "resource_type", "resource_id",
    "details", "ip", "occurred_at",
)
HASHED_FIELDS = tuple(field for field in FIELDS if field != "hash")


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 characters kept as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def normalise_datetime(value: str | datetime) -> str:
    """Appwrite's stored form of a datetime: ``2026-11-29T07:31:10.123+00:00``."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def details_json(details: Mapping[str, Any] | None) -> str:
    """The ``details`` column: canonical JSON of the structured details (``{}`` when none)."""
    return canonical_json(dict(details or {}))


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    prev_hash: str
    action: str
    actor: str
    occurred_at: str
    actor_role: str | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    details: str = "{}"
    ip: str | None = None
    hash: str = ""
    id: str = ""  # the row id (the ``audit_id``); not part of the hashed content

    def with_id(self, row_id: str) -> AuditEntry:
        return AuditEntry(**{**asdict(self), "id": row_id})

    def hashed_content(self) -> dict[str, Any]:
        content = {name: getattr(self, name) for name in HASHED_FIELDS}
        content["occurred_at"] = normalise_datetime(self.occurred_at)
        return content

    def compute_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.hashed_content()).encode("utf-8")).hexdigest()

    def sealed(self) -> AuditEntry:
        """This entry with ``occurred_at`` normalised and ``hash`` filled in."""
        entry = AuditEntry(**{**asdict(self), "occurred_at": normalise_datetime(self.occurred_at), "hash": ""})
        return AuditEntry(**{**asdict(entry), "hash": entry.compute_hash()})

    @property
    def is_sealed(self) -> bool:
        return self.seq > 0

    def to_row(self) -> dict[str, Any]:
        """The row data (every column, ``None`` for the unset optional ones and, while unsealed, for
        ``seq``/``prev_hash``/``hash``)."""
        row = {name: getattr(self, name) for name in FIELDS}
        if not self.is_sealed:
            row.update(seq=None, prev_hash=None, hash=None)
        return row

    def seal_after(self, head_seq: int, head_hash: str | None) -> AuditEntry:
        """This (unsealed) entry's content, sealed as the entry that follows (``head_seq``, ``head_hash``)."""
        return AuditEntry(**{**asdict(self), "seq": head_seq + 1, "prev_hash": head_hash or GENESIS_HASH}).sealed()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditEntry:
        """Read an entry back from a stored row (``$id`` becomes ``id``; other extra keys are ignored)."""
        return cls(
            seq=int(row.get("seq") or 0),
            prev_hash=str(row.get("prev_hash") or ""),
            action=str(row.get("action") or ""),
            actor=str(row.get("actor") or ""),
            occurred_at=str(row.get("occurred_at") or ""),
            actor_role=row.get("actor_role"),
            resource_type=row.get("resource_type"),
            resource_id=row.get("resource_id"),
            details=str(row["details"]) if row.get("details") is not None else "{}",
            ip=row.get("ip"),
            hash=str(row.get("hash") or ""),
            id=str(row.get("$id") or ""),
        )


def new_entry(*, action: str, actor: str, occurred_at: str | datetime, actor_role: str | None = None,
              resource_type: str | None = None, resource_id: str | None = None,
              details: Mapping[str, Any] | None = None, ip: str | None = None) -> AuditEntry:
    """An unsealed entry: its content, stored as it will be hashed, without its place in the chain."""
    return AuditEntry(
        seq=0, prev_hash="", action=action, actor=actor, occurred_at=normalise_datetime(occurred_at),
        actor_role=actor_role, resource_type=resource_type, resource_id=resource_id,
        details=details_json(details), ip=ip,
    )


def new_entry_id() -> str:
    """A fresh row id for an entry (20 hex characters, like Appwrite's ``unique()``): known before the
    commit, so it is the ``audit_id`` a route returns and events carry."""
    return "a" + secrets.token_hex(10)[:19]


def chain_next(head_seq: int, head_hash: str | None, *, action: str, actor: str, occurred_at: str | datetime,
               actor_role: str | None = None, resource_type: str | None = None, resource_id: str | None = None,
               details: Mapping[str, Any] | None = None, ip: str | None = None) -> AuditEntry:
    """The sealed entry that follows a head at (``head_seq``, ``head_hash``)."""
    return new_entry(
        action=action, actor=actor, occurred_at=occurred_at, actor_role=actor_role, resource_type=resource_type,
        resource_id=resource_id, details=details, ip=ip,
    ).seal_after(head_seq, head_hash)
