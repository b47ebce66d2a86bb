"""A backup's manifest: what was saved, how to check it, and a MAC so a forged one is refused.

The manifest lists each table's file with its row count and the SHA-256 of the compressed bytes, the
schema version, the audit chain's head and latest signed checkpoint, and the ledger totals. It is
authenticated with HMAC-SHA256 under a key derived from ``BIGTECH_SECRETS_KEY`` (which a restore
needs anyway to read plugin secrets), so someone who can write to the bucket cannot rewrite a file
*and* its hash: without the key the MAC cannot be recomputed. Without that key (a development
stack) the manifest carries only its own SHA-256 digest, which still catches corruption.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from pydantic import BaseModel, Field

from .. import secrets_box
from ..audit.chain import canonical_json
from ..schema.model import DatabaseSchema

FORMAT = "bigtech-backup/v1"
MAC_CONTEXT = b"bigtech-backup-manifest/v1"


class TableFile(BaseModel):
    key: str  # object key, relative to the backup folder
    rows: int  # rows in the file
    sha256: str  # of the compressed bytes
    bytes: int
    mode: str = "full"  # "full" | "delta" (rows updated since the previous backup)
    total: int  # full: == rows; delta: rows created up to `cutoff` that the whole chain must hold


class Manifest(BaseModel):
    format: str = FORMAT
    backup_id: str
    database_id: str
    tenant_id: str | None = None
    kind: str  # "full" | "incremental"
    base: str | None = None  # the previous backup in the chain (incremental only)
    since: str | None = None  # delta tables hold rows updated after this instant
    cutoff: str  # the instant the backup began
    finished_at: str = ""
    schema_version: str
    tables: dict[str, TableFile] = Field(default_factory=dict)
    audit: dict[str, Any] = Field(default_factory=dict)  # {chain, head: {seq, hash}, checkpoint: {...}|None}
    ledger: dict[str, Any] = Field(default_factory=dict)  # {entries, wallets: {id: {balance, held, effect}}}
    # the audit chain's signed checkpoints (core audit_checkpoints rows of this chain), absent in older backups
    checkpoints: TableFile | None = None
    # the tenant's Storage files (ops/files_io.py): file id → {key, name, size, md5, permissions}
    files: dict[str, dict[str, Any]] = Field(default_factory=dict)
    mac: str | None = None
    digest: str = ""

    def body(self) -> bytes:
        content = self.model_dump(exclude={"mac", "digest"})
        if content.get("checkpoints") is None:  # manifests written before the field keep their digest
            content.pop("checkpoints", None)
        return canonical_json(content).encode("utf-8")

    def sealed(self, key: bytes | None) -> Manifest:
        digest = hashlib.sha256(self.body()).hexdigest()
        mac = _mac(key, self.body()) if key else None
        return self.model_copy(update={"digest": digest, "mac": mac})

    def to_bytes(self) -> bytes:
        return json.dumps(self.model_dump(), indent=1, sort_keys=True).encode("utf-8")


def _mac(key: bytes, body: bytes) -> str:
    derived = hmac.new(key, MAC_CONTEXT, hashlib.sha256).digest()
    return hmac.new(derived, body, hashlib.sha256).hexdigest()


def mac_key() -> bytes | None:
    """The manifest key (derived from ``BIGTECH_SECRETS_KEY``), or ``None`` when that is not set."""
    try:
        return secrets_box.load_key()
    except secrets_box.SecretsKeyMissing:
        return None


def check_manifest(manifest: Manifest, key: bytes | None) -> str | None:
    """Why the manifest cannot be trusted, or ``None`` when it verifies."""
    if manifest.format != FORMAT:
        return f"unknown manifest format {manifest.format!r}"
    if not hmac.compare_digest(manifest.digest, hashlib.sha256(manifest.body()).hexdigest()):
        return "manifest digest does not match its content (edited or corrupted)"
    if key is not None:
        if not manifest.mac:
            return "manifest is not authenticated (no MAC) but this restore has BIGTECH_SECRETS_KEY"
        if not hmac.compare_digest(manifest.mac, _mac(key, manifest.body())):
            return "manifest MAC does not verify (edited, or written with another BIGTECH_SECRETS_KEY)"
    return None


def schema_version(schema: DatabaseSchema) -> str:
    """A short fingerprint of the declared tables and columns: restore refuses a different schema."""
    shape = [[t.id, [[c.key, c.type, c.size, c.array] for c in t.columns]] for t in schema.tables]
    return hashlib.sha256(canonical_json(shape).encode("utf-8")).hexdigest()[:16]
