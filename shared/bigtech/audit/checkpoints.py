"""Signed checkpoints of an audit chain, and what a set of them proves (pure: no Appwrite here).

A checkpoint is a signed statement "chain ``chain`` had, at ``signed_at``, entries ``from_seq``…``seq``
with exactly these hashes, the last one being the head ``hash``". Its ``from_seq`` is the previous
checkpoint's ``seq`` + 1 (1 for the first), so together they cover the chain from 1 with no gap, and
each carries the hashes of the entries it covers. The signature (Ed25519, ``bigtech.audit.signing``)
is over a domain-separated canonical JSON of the checkpoint with ``hashes`` as their SHA-256.

Because the hashes chain, the latest checkpoint alone detects any change to any entry up to its
``seq``; the per-entry hashes let ``verify`` *name* the first entry that no longer matches, even when
every later hash and the head were recomputed. ``Anchor.build`` keeps only the checkpoints whose
signature verifies with a known public key and reports the first one that does not.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from .chain import canonical_json, normalise_datetime
from .signing import PublicKeys, Signer

DOMAIN = b"bigtech-audit-checkpoint/v1\n"
SPAN = 100  # entries one checkpoint covers at most (its row holds their hashes: 100 x 64 characters)
_HASH = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Checkpoint:
    chain: str  # "<database id>/<table id>": "core/platform_audit", "tenant_acme/audit"
    seq: int
    hash: str
    from_seq: int
    hashes: tuple[str, ...]  # the hashes of entries from_seq…seq, in order
    signed_at: str
    key_id: str = ""
    signature: str = ""
    id: str = ""  # the row id; not signed

    def message(self) -> bytes:
        """The bytes signed: every field but ``signature`` and ``id``; the hashes by their SHA-256."""
        digest = hashlib.sha256("".join(self.hashes).encode("ascii")).hexdigest()
        content = {"chain": self.chain, "seq": self.seq, "hash": self.hash, "from_seq": self.from_seq,
                   "hashes_sha256": digest, "signed_at": normalise_datetime(self.signed_at), "key_id": self.key_id}
        return DOMAIN + canonical_json(content).encode("utf-8")

    def signed_by(self, signer: Signer) -> Checkpoint:
        unsigned = replace(self, key_id=signer.key_id, signed_at=normalise_datetime(self.signed_at))
        return replace(unsigned, signature=signer.sign(unsigned.message()))

    def well_formed(self) -> bool:
        return (1 <= self.from_seq <= self.seq and len(self.hashes) == self.seq - self.from_seq + 1
                and all(isinstance(h, str) and _HASH.match(h) for h in self.hashes) and self.hashes[-1] == self.hash)

    def is_valid(self, keys: PublicKeys, chain: str | None = None) -> bool:
        """Well formed, of ``chain`` (when given) and signed by one of ``keys``."""
        if chain is not None and self.chain != chain:
            return False
        try:
            return self.well_formed() and keys.verify(self.key_id, self.signature, self.message())
        except (TypeError, ValueError):  # a hand-made row with impossible values
            return False

    def signed_hashes(self) -> dict[int, str]:
        return {self.from_seq + offset: value for offset, value in enumerate(self.hashes)}

    # -- stored and exported forms ------------------------------------------------------------------
    def to_row(self) -> dict[str, Any]:
        return {"chain": self.chain, "seq": self.seq, "hash": self.hash, "from_seq": self.from_seq,
                "hashes": "".join(self.hashes), "signed_at": self.signed_at, "key_id": self.key_id,
                "signature": self.signature}

    @classmethod
    def from_row(cls, row: Mapping[str, Any], row_id: str = "") -> Checkpoint:
        packed = str(row.get("hashes") or "")
        return cls(
            chain=str(row.get("chain") or ""), seq=_int(row.get("seq")), hash=str(row.get("hash") or ""),
            from_seq=_int(row.get("from_seq")), hashes=tuple(packed[i:i + 64] for i in range(0, len(packed), 64)),
            signed_at=str(row.get("signed_at") or ""), key_id=str(row.get("key_id") or ""),
            signature=str(row.get("signature") or ""), id=row_id or str(row.get("$id") or ""),
        )

    def to_json(self) -> dict[str, Any]:
        return {**self.to_row(), "hashes": list(self.hashes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Checkpoint:
        hashes = data.get("hashes") or []
        packed = "".join(str(h) for h in hashes) if isinstance(hashes, list) else str(hashes)
        return cls.from_row({**data, "hashes": packed})


def _int(value: Any) -> int:
    try:
        return int(value) if value is not None and not isinstance(value, bool) else 0
    except (TypeError, ValueError):
        return 0


@dataclass(frozen=True)
class Anchor:
    """What the valid checkpoints of one chain vouch for."""

    configured: bool  # a public key is known: without one nothing can be checked
    signed: Mapping[int, str]  # seq → the hash a valid checkpoint signed for it
    latest: Checkpoint | None  # the valid checkpoint with the highest seq
    invalid: Checkpoint | None = None  # the lowest-seq checkpoint whose signature does not verify
    gap_seq: int | None = None  # the first seq below ``latest.seq`` no valid checkpoint covers

    @property
    def seq(self) -> int:
        return self.latest.seq if self.latest else 0

    @classmethod
    def build(cls, checkpoints: Iterable[Checkpoint], keys: PublicKeys, chain: str) -> Anchor:
        valid: list[Checkpoint] = []
        invalid: Checkpoint | None = None
        for checkpoint in checkpoints:
            if checkpoint.is_valid(keys, chain):
                valid.append(checkpoint)
            elif invalid is None or checkpoint.seq < invalid.seq:
                invalid = checkpoint
        signed: dict[int, str] = {}
        covered, gap = 0, None
        for checkpoint in sorted(valid, key=lambda c: (c.from_seq, c.seq)):
            if gap is None and checkpoint.from_seq > covered + 1:
                gap = covered + 1  # a checkpoint in between was deleted
            for seq, value in checkpoint.signed_hashes().items():
                signed.setdefault(seq, value)
            covered = max(covered, checkpoint.seq)
        latest = max(valid, key=lambda c: (c.seq, c.signed_at), default=None)
        return cls(bool(keys), signed, latest, invalid, gap)


__all__ = ["DOMAIN", "SPAN", "Anchor", "Checkpoint"]
