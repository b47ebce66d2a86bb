"""The tamper-evident audit trail: one hash chain per tenant database (``audit``) and one for the
platform (core ``platform_audit``).

- ``chain``: canonical JSON, entry hashes, row ids derived from sequence numbers;
- ``writer``: stage the next entry (and the head move) into a transaction's unit of work;
- ``verify``: walk a trail and name the first bad sequence;
- ``export``: the trail as CSV.
"""

from .chain import GENESIS_HASH, AuditEntry, canonical_json, chain_next, entry_row_id
from .export import to_csv
from .verify import VerifyResult, stored_entries, verify_entries, verify_trail
from .writer import AuditTrail, Head, audit_id, read_head, stage_entry

__all__ = [
    "GENESIS_HASH",
    "AuditEntry",
    "AuditTrail",
    "Head",
    "VerifyResult",
    "audit_id",
    "canonical_json",
    "chain_next",
    "entry_row_id",
    "read_head",
    "stage_entry",
    "stored_entries",
    "to_csv",
    "verify_entries",
    "verify_trail",
]
