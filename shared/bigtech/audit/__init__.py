"""The tamper-evident audit trail: one hash chain per tenant database (``audit``) and one for the
platform (core ``platform_audit``).

- ``chain``: canonical JSON, entry hashes, the genesis link;
- ``writer``: stage an unsealed entry into a transaction's unit of work, then seal it into the chain
  right after the commit (group commit; ``seal_all`` is the scheduled sweep for leftovers);
- ``verify``: walk a trail and name the first bad sequence (and flag entries left unsealed);
- ``export``: the trail as CSV.
"""

from .chain import GENESIS_HASH, AuditEntry, canonical_json, chain_next, new_entry, new_entry_id
from .export import to_csv
from .verify import VerifyResult, all_entries, entry_of, stored_entries, verify_entries, verify_trail
from .writer import AuditTrail, Head, audit_id, read_head, seal, seal_all, stage_entry

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditTrail",
    "Head",
    "VerifyResult",
    "all_entries",
    "audit_id",
    "canonical_json",
    "chain_next",
    "entry_of",
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
