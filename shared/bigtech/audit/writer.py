"""Append entries to an audit trail inside a unit of work (``bigtech.uow``).

Each database keeps its chain's head in the ``audit_head`` table, row ``head`` (seq, hash). Appending
reads the head, then stages, in the caller's transaction: the head moved to (seq+1, new hash) and the
entry created with a row id derived from seq+1. Two writers that read the same head both stage the
same row id and the same head update, so only the first commit wins; the other gets 409
``transaction_conflict`` and ``bigtech.uow.run`` rebuilds it on the new head. The chain therefore
never forks and never skips a number, and an entry exists only if the change it records committed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from ..schema.core import CORE_DATABASE_ID
from ..uow import UnitOfWork
from .chain import AuditEntry, chain_next, entry_row_id

HEAD_TABLE = "audit_head"
HEAD_ROW = "head"


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


def stage_entry(tables: TablesDB, unit: UnitOfWork, trail: AuditTrail, *, action: str, actor: str,
                actor_role: str | None = None, resource_type: str | None = None, resource_id: str | None = None,
                details: Mapping[str, Any] | None = None, ip: str | None = None,
                occurred_at: datetime | None = None) -> AuditEntry:
    """Read the head and stage the next entry plus the head move into ``unit``; returns the entry.

    Its ``audit_id`` (what mutating routes return) is ``entry_row_id(entry.seq)``.
    """
    head = read_head(tables, trail)
    entry = chain_next(
        head.seq, head.hash, action=action, actor=actor, actor_role=actor_role, resource_type=resource_type,
        resource_id=resource_id, details=details, ip=ip, occurred_at=occurred_at or datetime.now(UTC),
    )
    head_data = {"seq": entry.seq, "hash": entry.hash}
    if head.exists:
        unit.update(trail.database_id, HEAD_TABLE, HEAD_ROW, head_data)
    else:
        unit.upsert(trail.database_id, HEAD_TABLE, HEAD_ROW, head_data)
    unit.create(trail.database_id, trail.table_id, entry_row_id(entry.seq), entry.to_row())
    return entry


def audit_id(entry: AuditEntry) -> str:
    return entry_row_id(entry.seq)
