"""Append entries to an audit trail: written unsealed with the change, sealed into the chain right after.

Writing an entry into a hash chain needs the chain's head (last seq and hash). Reading it in every
business transaction made all audited changes of a tenant conflict with each other over that one row,
and the loser of each race rebuilt and retried its whole change. So an entry is written in two steps
("group commit"):

1. **Stage** (``stage_entry``, in the caller's unit of work, no head read): the entry row with a fresh
   random id — the ``audit_id`` the route returns, known at once — and all its content, but ``seq``,
   ``prev_hash`` and ``hash`` null. It lands exactly when the change it records does.
2. **Seal** (``seal``, registered to run after that commit): read the head (``audit_head`` table, row
   ``head``), list the unsealed entries in write order (``$sequence``), give them head.seq+1, +2, … with
   ``prev_hash`` links and hashes, and commit those updates plus the head move in one transaction.
   The head's ``seq`` moves by an ``increment`` bounded by ``max = seq read + n``: if any other sealer
   moved the head since we read it, the bound fails and nothing is applied (a compare-and-swap), so
   the chain never forks, skips or goes backwards. The loser re-reads and retries, and stops as soon
   as its own entry is sealed — usually by the winner, who sealed the whole batch in one go.

A sealing failure never fails the request: the change and its unsealed entry are durable, and the
next writer's sealer, or the scheduled sweep (``seal_all``, from billing's reaper schedule), seals them.
A change too frequent to pay for step 2 on its request (a consulta) skips it (``deferred``): its entry
waits, named by the tenant's ``work_pending`` marker (``bigtech.sweeps``), for the next sealer or the sweep.
A sealer that sealed something then signs a checkpoint of the new head (``bigtech.audit.anchoring``).
``bigtech.audit.verify`` treats entries unsealed for longer than ``UNSEALED_GRACE_SECONDS`` as a fault.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from ..errors import Conflict
from ..retry import retry
from ..schema_constants import CORE_DATABASE_ID
from ..sweeps import AUDIT, stage_marker
from ..uow import UnitOfWork, commit, is_retryable
from .chain import AuditEntry, new_entry, new_entry_id

log = logging.getLogger(__name__)

HEAD_TABLE = "audit_head"
HEAD_ROW = "head"
SEAL_BATCH = 50  # entries sealed per transaction (one update each + two for the head: under Appwrite's 100)
SEAL_ATTEMPTS = 20
# An entry left unsealed (a failed sealer, or a consulta's ``deferred`` entry) waits for the next sealer or
# the sweep: billing's schedule runs every 5 minutes, so three runs may pass (one stopped by its time
# budget, one failed) before ``verify`` calls it a fault.
UNSEALED_GRACE_SECONDS = 15 * 60
# The head's bounded increment failing means another sealer moved the head first.
_LOST_RACE_TYPES = frozenset({"column_limit_exceeded", "attribute_limit_exceeded"})


@dataclass(frozen=True)
class AuditTrail:
    """Where one chain lives: a tenant's ``audit`` table or the core ``platform_audit`` table."""

    database_id: str
    table_id: str = "audit"

    @classmethod
    def tenant(cls, database_id: str) -> AuditTrail:
        return cls(database_id, "audit")

    @classmethod
    def platform(cls) -> AuditTrail:
        return cls(CORE_DATABASE_ID, "platform_audit")

    @property
    def chain_id(self) -> str:
        """How checkpoints name this chain: ``core/platform_audit``, ``tenant_<id>/audit``."""
        return f"{self.database_id}/{self.table_id}"


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str | None
    exists: bool


def read_head(tables: TablesDB, trail: AuditTrail) -> Head:
    try:
        row = tables.get_row(trail.database_id, HEAD_TABLE, HEAD_ROW)
    except AppwriteException as error:
        if error.code == 404:
            return Head(0, None, False)
        raise
    data = row.data if hasattr(row, "data") else dict(row)
    return Head(int(data.get("seq") or 0), data.get("hash") or None, True)


def _ensure_head(tables: TablesDB, trail: AuditTrail) -> Head:
    """The head, created at (0, null) first if the chain has none (so every seal can compare-and-swap it)."""
    head = read_head(tables, trail)
    if head.exists:
        return head
    try:
        tables.create_row(trail.database_id, HEAD_TABLE, HEAD_ROW, {"seq": 0, "hash": None})
    except AppwriteException as error:
        if error.code != 409:  # another sealer created it first
            raise
    return read_head(tables, trail)


def stage_entry(tables: TablesDB, unit: UnitOfWork, trail: AuditTrail, *, action: str, actor: str,
                actor_role: str | None = None, resource_type: str | None = None, resource_id: str | None = None,
                details: Mapping[str, Any] | None = None, ip: str | None = None,
                occurred_at: datetime | None = None, deferred: bool = False) -> AuditEntry:
    """Stage the unsealed entry into ``unit`` and register its sealing after the commit; returns the entry.

    Its ``audit_id`` (what mutating routes return) is ``entry.id``, the row id. ``tables`` is what the
    sealer will use after the commit. ``deferred``: no seal after the commit; a marker in the same unit
    (the tenant's ``work_pending`` marker) names the chain for the next sealer or the sweep — for changes too
    frequent to pay a seal and a checkpoint each (a consulta: 7 Appwrite calls).
    """
    entry = new_entry(action=action, actor=actor, actor_role=actor_role, resource_type=resource_type,
                      resource_id=resource_id, details=details, ip=ip, occurred_at=occurred_at or datetime.now(UTC))
    entry = entry.with_id(new_entry_id())
    unit.create(trail.database_id, trail.table_id, entry.id, entry.to_row())
    if trail.database_id != CORE_DATABASE_ID:  # the sweep visits this tenant (the platform trail it always does)
        stage_marker(unit, trail.database_id, AUDIT)
    if not deferred:
        unit.after_commit(lambda: seal_quietly(tables, trail, entry.id))
    return entry


def audit_id(entry: AuditEntry) -> str:
    return entry.id


def unsealed_rows(tables: TablesDB, trail: AuditTrail, limit: int = SEAL_BATCH) -> list[Any]:
    """The oldest unsealed entries, in write order."""
    queries = [Query.is_null("seq"), Query.order_asc("$sequence"), Query.limit(limit)]
    return tables.list_rows(trail.database_id, trail.table_id, queries, total=False).rows


def _lost_race(error: AppwriteException) -> bool:
    return is_retryable(error) or error.code == 409 or error.type in _LOST_RACE_TYPES


def seal(tables: TablesDB, trail: AuditTrail, entry_id: str | None = None, *, batch: int = SEAL_BATCH,
         attempts: int = SEAL_ATTEMPTS, base_delay: float = 0.005, max_delay: float = 0.2,
         sleep: Callable[[float], None] = time.sleep, sealed_out: list[AuditEntry] | None = None) -> int:
    """Seal unsealed entries into the chain; returns how many this call sealed.

    With ``entry_id``: stops as soon as that entry is sealed (by this call or by another sealer).
    Without: seals until none is left (the sweep). After ``attempts`` lost races → 409 ``busy``.
    ``sealed_out`` receives the entries this call committed, sealed (what the checkpoint that follows
    would otherwise read back: a per-call memo, see ``seal_quietly``).
    """
    def seal_batch() -> tuple[list[AuditEntry], set[str]]:
        """One batch of the oldest unsealed rows onto the head, in one transaction; (entries, ids seen)."""
        head = _ensure_head(tables, trail)  # read before the list: a seal in between fails our bounded increment
        rows = unsealed_rows(tables, trail, batch)
        ids = {row.id for row in rows}
        if not rows or (entry_id is not None and entry_id not in ids and len(rows) < batch):
            return [], ids
        unit = UnitOfWork()
        seq, last_hash = head.seq, head.hash
        entries: list[AuditEntry] = []
        for row in rows:
            entry = AuditEntry.from_row(row.data).seal_after(seq, last_hash)
            entries.append(entry)
            unit.update(trail.database_id, trail.table_id, row.id,
                        {"seq": entry.seq, "prev_hash": entry.prev_hash, "hash": entry.hash})
            seq, last_hash = entry.seq, entry.hash
        unit.update(trail.database_id, HEAD_TABLE, HEAD_ROW, {"hash": last_hash})
        unit.increment(trail.database_id, HEAD_TABLE, HEAD_ROW, "seq", len(rows), max=seq)
        commit(tables, unit.operations)
        return entries, ids

    def lost(error: BaseException) -> bool:
        return isinstance(error, AppwriteException) and _lost_race(error)

    sealed = 0
    while True:
        entries, ids = retry(seal_batch, retry_on=lost, attempts=attempts, base_delay=base_delay,
                             max_delay=max_delay, sleep=sleep,
                             exhausted=lambda: Conflict("Too many concurrent audit seals; please retry.", code="busy"))
        if not entries:
            return sealed
        sealed += len(entries)
        if sealed_out is not None:
            sealed_out.extend(entries)
        if entry_id is not None and entry_id in ids:
            return sealed
        if entry_id is None and len(entries) < batch:
            return sealed


def seal_quietly(tables: TablesDB, trail: AuditTrail, entry_id: str) -> None:
    """``seal`` for after a commit, then a signed checkpoint of the new head when this call sealed
    anything: a failure is logged, never raised (the scheduled sweep seals and anchors what is left)."""
    from .anchoring import checkpoint_quietly  # anchoring builds on this module

    entries: list[AuditEntry] = []
    try:
        sealed = seal(tables, trail, entry_id, sealed_out=entries)
    except Exception as error:  # the change is committed; the sweep seals it later
        log.warning("audit: entry %s in %s/%s left unsealed: %s", entry_id, trail.database_id, trail.table_id,
                    error)
        return
    if sealed:
        # The entries just sealed and the head they end at are known: the checkpoint need not read
        # them back (2 calls fewer per audited change; it still reads the last checkpoint).
        checkpoint_quietly(tables, trail, known=entries)


def seal_all(tables: TablesDB, trails: list[AuditTrail] | None = None,
             tenant_databases: Callable[[], list[str]] | None = None) -> dict[str, Any]:
    """The sweep: seal every leftover entry of the platform trail and of each tenant's trail.

    ``trails`` defaults to the platform trail plus one per database ``tenant_databases()`` names.
    Returns ``{"sealed": n, "errors": [...]}``; one trail failing does not stop the others.
    """
    if trails is None:
        trails = [AuditTrail.platform()]
        trails += [AuditTrail.tenant(database_id) for database_id in (tenant_databases() if tenant_databases else [])]
    total, errors = 0, []
    for trail in trails:
        try:
            total += seal(tables, trail)
        except Exception as error:  # reported; the next sweep tries again
            errors.append(f"{trail.database_id}/{trail.table_id}: {error}")
    return {"sealed": total, "errors": errors}
