"""Check an audit trail: walk the sealed entries by sequence, recompute every link, and hold the chain
against its signed checkpoints (``bigtech.audit.checkpoints``).

Reports the first sequence that is wrong and why:

- ``missing``: the expected sequence is absent (a deleted row, or the tail cut off below the head);
- ``out_of_order``: a sequence appears twice or goes backwards (rows swapped or renumbered);
- ``edited``: the stored hash is not the hash of the stored content;
- ``broken_link``: ``prev_hash`` is not the previous entry's hash (an entry re-sealed after an edit);
- ``rewritten``: the entry hashes correctly and links, but a signed checkpoint vouched for another hash
  (an edit with every later hash and the head recomputed, or a rewritten suffix);
- ``head_mismatch``: the last entry is not the one the head points at;
- ``truncated``: a signed checkpoint covers sequences that are no longer there (the tail deleted and
  the head rolled back); the first missing sequence is named;
- ``checkpoint_missing``: a checkpoint between two others was deleted (names the first uncovered seq);
- ``bad_checkpoint``: a checkpoint row does not verify with any known public key (forged or planted,
  or signed by a rotated key whose public half is no longer listed); names that row's seq;
- ``unanchored`` (no sequence): no public key is configured, or no valid checkpoint covers the chain's
  entries although they were sealed more than ``UNANCHORED_GRACE_SECONDS`` ago;
- ``unsealed`` (no sequence): the chain is sound but entries were left unsealed for longer than
  ``UNSEALED_GRACE_SECONDS`` (15 minutes: three sweeps passed without sealing them). Entries written
  minutes ago and not sealed yet are normal — a consulta's entry waits for the next sealer or the
  scheduled sweep on purpose —: they are only counted (``unsealed``).

``anchored_seq`` is the last sequence a valid checkpoint vouches for; ``unanchored`` counts the sealed
entries after it (protected only by the hash chain until the next checkpoint).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .anchoring import stored_checkpoints
from .chain import GENESIS_HASH, AuditEntry
from .checkpoints import Anchor
from .signing import PublicKeys, load_public_keys
from .writer import UNSEALED_GRACE_SECONDS, AuditTrail, Head, read_head

PAGE_SIZE = 100
UNANCHORED_GRACE_SECONDS = 60  # a checkpoint follows each seal; the schedule catches up within minutes


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    unsealed: int = 0
    anchored_seq: int | None = None
    unanchored: int = 0

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "first_bad_seq": self.first_bad_seq,
                "reason": self.reason, "head_seq": self.head_seq, "unsealed": self.unsealed,
                "anchored_seq": self.anchored_seq, "unanchored": self.unanchored}


def verify_entries(entries: Iterable[AuditEntry], head: Head | None = None, anchor: Anchor | None = None, *,
                   now: datetime | None = None) -> VerifyResult:
    """Pure check of entries given in ascending ``seq`` order (as stored) against the head and, when
    given, the chain's checkpoints. Without ``anchor`` only the chain itself is checked."""
    expected = 1
    previous_hash = GENESIS_HASH
    checked = 0
    head_seq = head.seq if head else 0
    signed = anchor.signed if anchor else {}
    anchored_seq = anchor.seq if anchor and anchor.latest else None
    first_unanchored_at: str | None = None

    def bad(seq: int | None, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, seq, reason, head_seq, anchored_seq=anchored_seq)

    for entry in entries:
        if entry.seq > expected:
            return bad(expected, "missing")
        if entry.seq < expected:
            return bad(expected - 1 if entry.seq == expected - 1 else entry.seq, "out_of_order")
        if entry.compute_hash() != entry.hash:
            return bad(entry.seq, "edited")
        if entry.prev_hash != previous_hash:
            return bad(entry.seq, "broken_link")
        if entry.seq in signed and signed[entry.seq] != entry.hash:
            return bad(entry.seq, "rewritten")
        if anchor is not None and entry.seq > anchor.seq and first_unanchored_at is None:
            first_unanchored_at = entry.occurred_at
        previous_hash = entry.hash
        expected += 1
        checked += 1
    last = expected - 1
    if head is not None and head.exists:
        if head.seq > last:
            return bad(last + 1, "missing")
        if head.seq < last:
            return bad(head.seq + 1, "head_mismatch")
        if last and head.hash != previous_hash:
            return bad(last, "head_mismatch")
    if anchor is None:
        return VerifyResult(True, checked, None, None, head_seq)
    return _hold_against(anchor, checked, last, head_seq, first_unanchored_at, now)


def _hold_against(anchor: Anchor, checked: int, last: int, head_seq: int, first_unanchored_at: str | None,
                  now: datetime | None) -> VerifyResult:
    anchored_seq = anchor.seq if anchor.latest else None
    unanchored = max(0, last - anchor.seq)

    def result(ok: bool, seq: int | None = None, reason: str | None = None) -> VerifyResult:
        return VerifyResult(ok, checked, seq, reason, head_seq, anchored_seq=anchored_seq, unanchored=unanchored)

    if anchor.seq > last:
        return result(False, last + 1, "truncated")
    if not anchor.configured:  # no public key: no checkpoint can be checked at all
        return result(not last, None, "unanchored" if last else None)
    if anchor.invalid is not None:
        return result(False, anchor.invalid.seq or None, "bad_checkpoint")
    if anchor.gap_seq is not None:
        return result(False, anchor.gap_seq, "checkpoint_missing")
    if unanchored and first_unanchored_at:
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=UNANCHORED_GRACE_SECONDS)
        if datetime.fromisoformat(first_unanchored_at) < cutoff:
            return result(False, None, "unanchored")
    return result(True)


def entry_of(row: Any) -> AuditEntry:
    """An SDK row as an entry (with its row id)."""
    return AuditEntry.from_row(row.data).with_id(row.id)


def _paged(tables: TablesDB, trail: AuditTrail, queries: list[str], page_size: int) -> Iterator[AuditEntry]:
    cursor: str | None = None
    while True:
        page = [*queries, Query.limit(page_size)]
        if cursor:
            page.append(Query.cursor_after(cursor))
        rows = tables.list_rows(trail.database_id, trail.table_id, page, total=False).rows
        for row in rows:
            yield entry_of(row)
        if len(rows) < page_size:
            return
        cursor = rows[-1].id


def stored_entries(tables: TablesDB, trail: AuditTrail, page_size: int = PAGE_SIZE) -> Iterator[AuditEntry]:
    """Every sealed entry, ascending by ``seq``, paged with a cursor (rows are read as stored)."""
    return _paged(tables, trail, [Query.is_not_null("seq"), Query.order_asc("seq")], page_size)


def all_entries(tables: TablesDB, trail: AuditTrail, page_size: int = PAGE_SIZE) -> Iterator[AuditEntry]:
    """The sealed entries by ``seq``, then the not yet sealed ones in write order (the export)."""
    yield from stored_entries(tables, trail, page_size)
    yield from _paged(tables, trail, [Query.is_null("seq"), Query.order_asc("$sequence")], page_size)


def _older(older_than: datetime | None) -> list[str]:
    return [] if older_than is None else [Query.less_than("$createdAt", older_than.isoformat(timespec="milliseconds"))]


def _count_unsealed(tables: TablesDB, trail: AuditTrail, older_than: datetime | None = None) -> int:
    queries = [Query.is_null("seq"), Query.limit(1), *_older(older_than)]
    return int(tables.list_rows(trail.database_id, trail.table_id, queries, total=True).total)


def _overdue(tables: TablesDB, trail: AuditTrail, now: datetime) -> bool:
    """Whether an entry stayed unsealed past ``UNSEALED_GRACE_SECONDS``."""
    return bool(_count_unsealed(tables, trail, now - timedelta(seconds=UNSEALED_GRACE_SECONDS)))


def verify_trail(tables: TablesDB, trail: AuditTrail, *, now: datetime | None = None,
                 keys: PublicKeys | None = None) -> VerifyResult:
    """The chain as stored, held against its checkpoints; ``keys`` defaults to the deployment's
    (``bigtech.audit.signing.load_public_keys``)."""
    keys = load_public_keys() if keys is None else keys
    result = _verify_sealed(tables, trail, keys, now)
    if result.reason in ("head_mismatch", "truncated"):  # sealed/anchored between our reads: look again
        result = _verify_sealed(tables, trail, keys, now)
    unsealed = _count_unsealed(tables, trail)
    result = replace(result, unsealed=unsealed)
    if result.ok and unsealed and _overdue(tables, trail, now or datetime.now(UTC)):
        result = replace(result, ok=False, reason="unsealed")
    return result


def _verify_sealed(tables: TablesDB, trail: AuditTrail, keys: PublicKeys, now: datetime | None) -> VerifyResult:
    # Head, then checkpoints, then entries: each read sees at least what the one before it vouched for.
    head = read_head(tables, trail)
    anchor = Anchor.build(stored_checkpoints(tables, trail), keys, trail.chain_id)
    return verify_entries(stored_entries(tables, trail), head, anchor, now=now)
