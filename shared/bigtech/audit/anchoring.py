"""Write and read the signed checkpoints of audit chains (core table ``audit_checkpoints``).

``checkpoint`` anchors a chain's sealed head: it reads the head, the latest checkpoint whose signature
verifies, and the entries sealed since; checks that those entries are intact and extend that
checkpoint (the first one's ``prev_hash`` is its hash); then signs and stores one checkpoint per
``SPAN`` entries. It refuses (``CheckpointRefused``, logged) to sign a chain that does not extend its
last checkpoint, so a history rewritten in the database is never laundered into a new signature.

It runs right after each seal that sealed something (``checkpoint_quietly``, from the writer's
after-commit sealer) and on billing's five-minute schedule (``checkpoint_all``, after the seal sweep).
Without ``BIGTECH_AUDIT_SIGNING_KEY`` nothing is written (fail closed): the error is logged and
``verify`` reports the chain as unanchored.

Two checkpointers racing over one head write the same row id (it is derived from chain and seq), so
the second gets 409 and stops; overlapping checkpoints from different heads agree on every seq they
share, because each was signed only after checking the entries against the one before.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..schema.core import CORE_DATABASE_ID
from .chain import GENESIS_HASH, AuditEntry, normalise_datetime
from .checkpoints import SPAN, Checkpoint
from .signing import PublicKeys, Signer, SigningKeyMissing, load_public_keys, load_signer
from .writer import AuditTrail, Head, read_head

log = logging.getLogger(__name__)

CHECKPOINT_TABLE = "audit_checkpoints"
PAGE_SIZE = 100
LATEST_PAGE = 5  # checkpoints read at a time (newest first) looking for one that verifies


class CheckpointRefused(RuntimeError):
    """The sealed entries do not extend the last valid checkpoint: the chain was changed underneath."""


def checkpoint_row_id(chain: str, seq: int) -> str:
    """One id per (chain, seq): concurrent checkpointers of one head collide instead of duplicating."""
    return "k" + hashlib.sha256(f"{chain}|{seq}".encode()).hexdigest()[:35]


def _rows(tables: TablesDB, queries: list[str]) -> list[Any]:
    return tables.list_rows(CORE_DATABASE_ID, CHECKPOINT_TABLE, queries, total=False).rows


def stored_checkpoints(tables: TablesDB, trail: AuditTrail) -> Iterator[Checkpoint]:
    """Every checkpoint row of the chain (valid or not), ascending by seq."""
    cursor: str | None = None
    while True:
        queries = [Query.equal("chain", [trail.chain_id]), Query.order_asc("seq"), Query.limit(PAGE_SIZE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        rows = _rows(tables, queries)
        for row in rows:
            yield Checkpoint.from_row(row.data, row.id)
        if len(rows) < PAGE_SIZE:
            return
        cursor = rows[-1].id


def latest_valid(tables: TablesDB, trail: AuditTrail, keys: PublicKeys) -> Checkpoint | None:
    """The highest checkpoint whose signature verifies (rows that do not verify are skipped). Usually the
    first row read; planted rows above it only cost a few more small pages."""
    cursor: str | None = None
    while True:
        queries = [Query.equal("chain", [trail.chain_id]), Query.order_desc("seq"), Query.limit(LATEST_PAGE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        rows = _rows(tables, queries)
        for row in rows:
            found = Checkpoint.from_row(row.data, row.id)
            if found.is_valid(keys, trail.chain_id):
                return found
        if len(rows) < LATEST_PAGE:
            return None
        cursor = rows[-1].id


def _sealed_range(tables: TablesDB, trail: AuditTrail, first: int, last: int) -> list[AuditEntry]:
    queries = [Query.greater_than_equal("seq", first), Query.less_than_equal("seq", last), Query.order_asc("seq"),
               Query.limit(last - first + 1)]
    rows = tables.list_rows(trail.database_id, trail.table_id, queries, total=False).rows
    return [AuditEntry.from_row(row.data) for row in rows]


def _check_extends(entries: list[AuditEntry], first: int, last: int, previous_hash: str, chain: str) -> None:
    expected = first
    for entry in entries:
        problem = None
        if entry.seq != expected:
            problem = "missing"
        elif entry.compute_hash() != entry.hash:
            problem = "edited"
        elif entry.prev_hash != previous_hash:
            problem = "broken_link"
        if problem:
            raise CheckpointRefused(f"audit chain {chain} does not extend its last checkpoint: seq {expected} "
                                    f"is {problem}; nothing signed")
        previous_hash, expected = entry.hash, expected + 1
    if expected != last + 1:
        raise CheckpointRefused(f"audit chain {chain} does not extend its last checkpoint: seq {expected} is "
                                f"missing; nothing signed")


def checkpoint(tables: TablesDB, trail: AuditTrail, signer: Signer | None = None, *,
               now: datetime | None = None, span: int = SPAN, known: Sequence[AuditEntry] = ()) -> list[Checkpoint]:
    """Sign and store checkpoints up to the chain's sealed head; returns those written (none if current).

    ``signer`` defaults to ``BIGTECH_AUDIT_SIGNING_KEY`` (``SigningKeyMissing`` without it). ``known``: entries
    this execution itself just sealed (``seal(sealed_out=...)``), in seq order. The last one is a sealed head
    (it was the head when its seal committed), so the head is not read; a range they cover entirely is
    not read back either. They are still checked against the last valid checkpoint like read ones.
    """
    signer = signer or load_signer()
    # Earlier keys too (BIGTECH_AUDIT_PUBLIC_KEYS): after a rotation the chain goes on from the last
    # checkpoint the old key signed.
    keys = PublicKeys.of([signer.public_key, *load_public_keys().keys.values()], signer.key_id)
    memo = {entry.seq: entry for entry in known if entry.seq is not None}
    head = Head(max(memo), memo[max(memo)].hash, True) if memo else read_head(tables, trail)
    previous = latest_valid(tables, trail, keys)
    start = previous.seq + 1 if previous else 1
    previous_hash = previous.hash if previous else GENESIS_HASH
    signed_at = normalise_datetime(now or datetime.now(UTC))
    written: list[Checkpoint] = []
    while start <= head.seq:
        last = min(head.seq, start + span - 1)
        if all(seq in memo for seq in range(start, last + 1)):
            entries = [memo[seq] for seq in range(start, last + 1)]
        else:
            entries = _sealed_range(tables, trail, start, last)
        _check_extends(entries, start, last, previous_hash, trail.chain_id)
        made = Checkpoint(trail.chain_id, last, entries[-1].hash, start, tuple(e.hash for e in entries),
                          signed_at).signed_by(signer)
        if _store(tables, made, keys):
            written.append(made)
        start, previous_hash = last + 1, made.hash
    return written


def _store(tables: TablesDB, made: Checkpoint, keys: PublicKeys) -> bool:
    """Create the checkpoint row; ``False`` when a valid one for the same head is already there (a
    concurrent checkpointer). A row under that id that does not verify (planted) is overwritten."""
    row_id = checkpoint_row_id(made.chain, made.seq)
    try:
        tables.create_row(CORE_DATABASE_ID, CHECKPOINT_TABLE, row_id, made.to_row())
        return True
    except AppwriteException as error:
        if error.code != 409:
            raise
    existing = tables.get_row(CORE_DATABASE_ID, CHECKPOINT_TABLE, row_id)
    if Checkpoint.from_row(existing.data, row_id).is_valid(keys, made.chain):
        return False
    tables.update_row(CORE_DATABASE_ID, CHECKPOINT_TABLE, row_id, made.to_row())
    return True


def checkpoint_quietly(tables: TablesDB, trail: AuditTrail, known: Sequence[AuditEntry] = ()) -> None:
    """``checkpoint`` after a seal: never raises (the change is committed; the schedule tries again)."""
    try:
        checkpoint(tables, trail, known=known)
    except SigningKeyMissing as error:
        log.error("audit: chain %s NOT anchored (fail closed, no checkpoint written): %s", trail.chain_id, error)
    except Exception as error:  # logged; verify reports the chain unanchored or names the bad seq
        log.error("audit: checkpoint of %s failed: %s", trail.chain_id, error)


def checkpoint_all(tables: TablesDB, trails: list[AuditTrail] | None = None,
                   tenant_databases: Callable[[], list[str]] | None = None,
                   signer: Signer | None = None) -> dict[str, Any]:
    """The scheduled pass: checkpoint the platform chain and every tenant's. Without a signing key it
    writes nothing and says so in ``errors`` (one line, for the schedule's log)."""
    try:
        signer = signer or load_signer()
    except SigningKeyMissing as error:
        return {"checkpointed": 0, "errors": [f"audit trails NOT anchored (fail closed): {error}"]}
    if trails is None:
        trails = [AuditTrail.platform()]
        trails += [AuditTrail.tenant(database_id) for database_id in (tenant_databases() if tenant_databases else [])]
    total, errors = 0, []
    for trail in trails:
        try:
            total += len(checkpoint(tables, trail, signer))
        except Exception as error:  # reported; one chain failing does not stop the others
            errors.append(f"{trail.chain_id}: {error}")
    return {"checkpointed": total, "errors": errors}


__all__ = ["CHECKPOINT_TABLE", "CheckpointRefused", "checkpoint", "checkpoint_all", "checkpoint_quietly",
           "checkpoint_row_id", "latest_valid", "stored_checkpoints"]
