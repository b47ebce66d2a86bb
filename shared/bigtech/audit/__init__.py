"""The tamper-evident audit trail: one hash chain per tenant database (``audit``) and one for the
platform (core ``platform_audit``).

- ``chain``: canonical JSON, entry hashes, the genesis link;
- ``writer``: stage an unsealed entry into a transaction's unit of work, then seal it into the chain
  right after the commit (group commit), or leave it for later (``deferred``); ``sweep`` seals and
  anchors the leftovers of the tenants ``work_pending`` names (``bigtech.sweeps``);
- ``verify``: walk a trail and name the first bad sequence (and flag entries left unsealed);
- ``signing``/``checkpoints``/``anchoring``: signed checkpoints of each chain's head (Ed25519, key
  outside the database) that ``verify`` holds the chain against;
- ``export``: the trail as CSV or JSON, the checkpoints as JSON; ``offline`` verifies those files with
  only the public key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .anchoring import CHECKPOINT_TABLE, CheckpointRefused, checkpoint, checkpoint_all, checkpoint_quietly
    from .chain import GENESIS_HASH, AuditEntry, canonical_json, chain_next, new_entry, new_entry_id
    from .checkpoints import Anchor, Checkpoint
    from .export import to_csv
    from .signing import PublicKeys, Signer, SigningKeyMissing, load_public_keys, load_signer
    from .verify import VerifyResult, all_entries, entry_of, stored_entries, verify_entries, verify_trail
    from .writer import AuditTrail, Head, audit_id, read_head, seal, seal_all, stage_entry

# Imported on first use (PEP 562): a function that only stages audit entries (``writer``) must not load
# the checkpoint signing (cryptography), the verifier and the exporter on a cold start.
_EXPORTS = {
    "CHECKPOINT_TABLE": ".anchoring",
    "CheckpointRefused": ".anchoring",
    "checkpoint": ".anchoring",
    "checkpoint_all": ".anchoring",
    "checkpoint_quietly": ".anchoring",
    "GENESIS_HASH": ".chain",
    "AuditEntry": ".chain",
    "canonical_json": ".chain",
    "chain_next": ".chain",
    "new_entry": ".chain",
    "new_entry_id": ".chain",
    "Anchor": ".checkpoints",
    "Checkpoint": ".checkpoints",
    "to_csv": ".export",
    "PublicKeys": ".signing",
    "Signer": ".signing",
    "SigningKeyMissing": ".signing",
    "load_public_keys": ".signing",
    "load_signer": ".signing",
    "VerifyResult": ".verify",
    "all_entries": ".verify",
    "entry_of": ".verify",
    "stored_entries": ".verify",
    "verify_entries": ".verify",
    "verify_trail": ".verify",
    "AuditTrail": ".writer",
    "Head": ".writer",
    "audit_id": ".writer",
    "read_head": ".writer",
    "seal": ".writer",
    "seal_all": ".writer",
    "stage_entry": ".writer",
}
__getattr__ = exports(__name__, _EXPORTS)

__all__ = [
    "CHECKPOINT_TABLE",
    "GENESIS_HASH",
    "Anchor",
    "AuditEntry",
    "AuditTrail",
    "Checkpoint",
    "CheckpointRefused",
    "Head",
    "PublicKeys",
    "Signer",
    "SigningKeyMissing",
    "VerifyResult",
    "all_entries",
    "audit_id",
    "canonical_json",
    "chain_next",
    "checkpoint",
    "checkpoint_all",
    "checkpoint_quietly",
    "entry_of",
    "load_public_keys",
    "load_signer",
    "new_entry",
    "new_entry_id",
    "read_head",
    "seal",
    "seal_all",
    "stage_entry",
    "stored_entries",
    "to_csv",
    "verify_entries",
    "verify_trail",
]
