"""Check an audit trail: walk the sealed entries by sequence and recompute every link.

Reports the first sequence that is wrong and why:

- ``missing``: the expected sequence is absent (a deleted row, or the tail cut off below the head);
- ``out_of_order``: a sequence appears twice or goes backwards (rows swapped or renumbered);
- ``broken_link``: ``prev_hash`` is not the previous entry's hash (an entry re-sealed after an edit);
- ``edited``: the stored hash is not the hash of the stored content;
- ``head_mismatch``: the last entry is not the one the head points at;
- ``unsealed`` (no sequence): the chain is sound but entries were left unsealed for longer than
  ``UNSEALED_GRACE_SECONDS`` (their writer's sealer failed and no sweep has run since). Entries
  written moments ago and not sealed yet are normal: they are only counted (``unsealed``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .chain import GENESIS_HASH, AuditEntry
from .writer import UNSEALED_GRACE_SECONDS, AuditTrail, Head, read_head

PAGE_SIZE = 100


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    unsealed: int = 0

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checked": self.checked, "first_bad_seq": self.first_bad_seq,
                "reason": self.reason, "head_seq": self.head_seq, "unsealed": self.unsealed}


def verify_entries(entries: Iterable[AuditEntry], head: Head | None = None) -> VerifyResult:
    """Pure check of entries given in ascending ``seq`` order (as stored) against the head."""
    expected = 1
    previous_hash = GENESIS_HASH
    checked = 0
    head_seq = head.seq if head else 0

    def bad(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(False, checked, seq, reason, head_seq)

    for entry in entries:
        if entry.seq > expected:
            return bad(expected, "missing")
        if entry.seq < expected:
            return bad(expected - 1 if entry.seq == expected - 1 else entry.seq, "out_of_order")
        if entry.compute_hash() != entry.hash:
            return bad(entry.seq, "edited")
        if entry.prev_hash != previous_hash:
            return bad(entry.seq, "broken_link")
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
    return VerifyResult(True, checked, None, None, head_seq)


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


def _count_unsealed(tables: TablesDB, trail: AuditTrail, older_than: datetime | None = None) -> int:
    queries = [Query.is_null("seq"), Query.limit(1)]
    if older_than is not None:
        queries.append(Query.less_than("$createdAt", older_than.isoformat(timespec="milliseconds")))
    return tables.list_rows(trail.database_id, trail.table_id, queries, total=True).total


def verify_trail(tables: TablesDB, trail: AuditTrail, *, now: datetime | None = None) -> VerifyResult:
    result = _verify_sealed(tables, trail)
    if result.reason == "head_mismatch":  # an entry sealed between our head read and our walk: look again
        result = _verify_sealed(tables, trail)
    unsealed = _count_unsealed(tables, trail)
    result = replace(result, unsealed=unsealed)
    if result.ok and unsealed:
        cutoff = (now or datetime.now(UTC)) - timedelta(seconds=UNSEALED_GRACE_SECONDS)
        if _count_unsealed(tables, trail, cutoff):
            result = replace(result, ok=False, reason="unsealed")
    return result


def _verify_sealed(tables: TablesDB, trail: AuditTrail) -> VerifyResult:
    head = read_head(tables, trail)
    return verify_entries(stored_entries(tables, trail), head)
