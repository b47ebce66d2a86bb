"""The scheduled audit sweep: seal and anchor the trails that may have entries left unsealed.

Every tenant entry is staged with a ``work_pending`` marker of kind ``audit`` (``stage_entry``,
``bigtech.sweeps``), so the sweep visits the platform trail and the tenants those markers name, not every
tenant: a run over idle tenants is the platform trail plus one read. Each trail is sealed (``seal``) and
its head checkpointed (``checkpoint``); a tenant's markers are deleted only when both went through.
The run stops before the next trail once its time budget is spent; what it did not reach keeps its
markers for the next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .. import sweeps
from .anchoring import checkpoint
from .signing import Signer, SigningKeyMissing, load_signer
from .writer import AuditTrail, seal


@dataclass
class SweepReport:
    trails: int = 0
    sealed: int = 0
    checkpointed: int = 0
    errors: list[str] = field(default_factory=list)
    checkpoint_errors: list[str] = field(default_factory=list)
    complete: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"audit_trails": self.trails, "audit_sealed": self.sealed, "audit_errors": self.errors[:20],
                "audit_checkpointed": self.checkpointed, "audit_checkpoint_errors": self.checkpoint_errors[:20],
                "audit_complete": self.complete}


def sweep_marked(tables: TablesDB, budget: sweeps.Budget, signer: Signer | None = None) -> SweepReport:
    report = SweepReport()
    marked = sweeps.due(tables, sweeps.AUDIT)
    if signer is None:
        try:
            signer = load_signer()
        except SigningKeyMissing as error:  # sealing goes on; nothing is signed (fail closed)
            report.checkpoint_errors.append(f"audit trails NOT anchored (fail closed): {error}")
    finished: list[str] = []
    for trail in [AuditTrail.platform(), *(AuditTrail.tenant(database_id) for database_id in marked)]:
        if budget.spent:
            report.complete = False
            break
        report.trails += 1
        try:
            report.sealed += seal(tables, trail)
        except Exception as error:  # reported; its markers stay for the next sweep
            report.errors.append(f"{trail.database_id}/{trail.table_id}: {error}")
            continue
        if signer is not None:
            try:
                report.checkpointed += len(checkpoint(tables, trail, signer))
            except Exception as error:
                report.checkpoint_errors.append(f"{trail.chain_id}: {error}")
                continue
        finished += marked.get(trail.database_id, [])
    try:
        sweeps.clear(tables, finished)
    except AppwriteException as error:  # the markers stay: those tenants are visited once more
        report.errors.append(f"markers not cleared: {error.code} {error.type}: {error}")
    return report


__all__ = ["SweepReport", "sweep_marked"]
