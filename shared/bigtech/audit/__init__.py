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

from .anchoring import CHECKPOINT_TABLE, CheckpointRefused, checkpoint, checkpoint_all, checkpoint_quietly
from .chain import GENESIS_HASH, AuditEntry, canonical_json, chain_next, new_entry, new_entry_id
from .checkpoints import Anchor, Checkpoint
from .export import to_csv
from .signing import PublicKeys, Signer, SigningKeyMissing, load_public_keys, load_signer
from .verify import VerifyResult, all_entries, entry_of, stored_entries, verify_entries, verify_trail
from .writer import AuditTrail, Head, audit_id, read_head, seal, seal_all, stage_entry

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
