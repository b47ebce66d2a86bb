"""Abandoned async consultas: a ``pending`` consulta whose execution died is ended ``failed``, exactly once.

An async consulta (``functions/consultas/src/deferred.py``) is written ``pending`` and an async execution
of ``POST /internal/run`` (``worker.py``) carries it. If that execution dies (timeout, worker killed, or
Appwrite never runs it), nothing would ever end the row. Billing's schedule (the reaper's tenant visit,
``reaper.reap_tenant``) ends every pending consulta that can no longer be running, in one transaction:
the row ``failed`` with ``error.code`` ``consulta_abandoned``, its hold released if one is still held
(ledger ``release``), the client's idempotency key freed, an audit entry ``consultas.abandon`` by
``system:reaper`` and a ``consulta.failed`` event.

**Two tokens, both rows of the tenant's ``idempotency`` table with ids derived from the consulta id**,
so that each is a ``create`` only one writer can make (the compare-and-set; no read-then-write):

- the *run token* (``consultas.run``): the execution creates it before it does anything (``take_run``);
  a sweep that ends a consulta whose execution never started creates it in its transaction. Of a late
  execution and the sweep exactly one creates it: the execution that finds it taken does nothing.
- the *end token* (``consultas.end``): created by the sweep's transaction *and* by the execution's final
  settlement (``worker.ResumedGateway``): of the two, exactly one commits. The loser changes nothing:
  the sweep finds the row no longer pending; the execution finds the consulta abandoned and neither
  releases (the sweep did) nor touches the key or the row.

**When can no execution be running?** A consulta is abandoned once its row is older than ``STALE_AFTER``
*and* its run token is absent (never started: the token's create decides the race) or older than
``STALE_AFTER`` (Appwrite kills an execution at its 60 s timeout, as for the reaper's holds). A row past
the cutoff whose run token is younger is *deferred*: the tenant's markers stay, and the next run looks
again. Its idempotency claim is kept too (the reaper would otherwise free the key of a consulta that is
still running, and a retry would run it a second time).

**The key** of an abandoned consulta is freed (as when a run is refused or the reaper clears a stuck
claim): the client's retry with the same key runs the consulta again under a new id, charged once;
``GET /{id}`` of the abandoned one keeps answering ``failed`` / ``consulta_abandoned``. The claim is
deleted only if it is still this consulta's and unanswered (a retry's newer claim has the same row id).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .. import idempotency, uow
from ..appwrite_access import is_unique_violation
from ..audit.writer import AuditTrail, stage_entry
from ..outbox_writer import stage_event
from ..uow import UnitOfWork
from . import ledger
from .holds import Hold, settled, stage_release

TABLE = "consultas"
RUN_SCOPE = "consultas.run"  # not "consultas:": the reaper's stuck-claim sweep never clears these
END_SCOPE = "consultas.end"
ACTOR = "system:reaper"
ACTION = "consultas.abandon"
EVENT = "consulta.failed"
ERROR_CODE = "consulta_abandoned"
MESSAGE = "The consulta did not finish in time and was cancelled; nothing was charged. Ask again."
REASON = "abandoned consulta: its execution never finished"
PAGE = 100


def run_token_id(consulta_id: str) -> str:
    return idempotency.row_id(RUN_SCOPE, consulta_id)


def end_token_id(consulta_id: str) -> str:
    return idempotency.row_id(END_SCOPE, consulta_id)


def _token(scope: str, consulta_id: str, by: str) -> dict[str, Any]:
    return {"scope": scope, "key": consulta_id, "request_hash": by}


def take_run(tables: TablesDB, database_id: str, consulta_id: str) -> bool:
    """The execution's first call: ``False`` if the run was already taken (the sweep ended the consulta,
    or another execution of the same job runs it): then the execution must do nothing at all."""
    try:
        tables.create_row(database_id, idempotency.TABLE, run_token_id(consulta_id),
                          _token(RUN_SCOPE, consulta_id, "started"))
    except AppwriteException as error:
        if is_unique_violation(error):
            return False
        raise
    return True


def stage_end(unit: UnitOfWork, database_id: str, consulta_id: str, by: str) -> None:
    """The end token, staged into whichever transaction ends the consulta (the settlement or the sweep)."""
    unit.create(database_id, idempotency.TABLE, end_token_id(consulta_id), _token(END_SCOPE, consulta_id, by))


def was_abandoned(tables: TablesDB, database_id: str, consulta_id: str) -> bool:
    """Whether the sweep ended the consulta (its end token exists and is not the settlement's)."""
    row = _get(tables, database_id, idempotency.TABLE, end_token_id(consulta_id))
    return row is not None and row.data.get("request_hash") == "abandoned"


def _get(tables: TablesDB, database_id: str, table_id: str, row_id: str) -> Any | None:
    try:
        return tables.get_row(database_id, table_id, row_id)
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise


def _hold(tables: TablesDB, database_id: str, consulta_id: str) -> Hold | None:
    """The consulta's hold if it is still outstanding (neither debited nor released)."""
    key = f"consulta:{consulta_id}"
    row = _get(tables, database_id, ledger.TABLE, ledger.entry_id(f"{key}:hold"))
    if row is None or row.data.get("idempotency_key") != f"{key}:hold":
        return None
    hold = Hold(database_id, str(row.data.get("wallet_id")), int(row.data.get("amount") or 0), "consulta",
                consulta_id, actor=ACTOR)
    return None if settled(tables, database_id, [hold]) else hold


def _own_claim(tables: TablesDB, database_id: str, row: Any) -> str | None:
    """The row id of the client's claim if it is still this consulta's and unanswered (to free it)."""
    key = row.data.get("idempotency_key")
    if not key:
        return None  # an ``async:<id>`` key: no client can send it again, the reaper clears it
    scope = f"consultas:{row.data.get('user_id')}"
    claim = _get(tables, database_id, idempotency.TABLE, idempotency.row_id(scope, key))
    if claim is None or claim.data.get("status_code"):
        return None
    mine = idempotency.Claim(database_id, claim.id, scope, key, claim.createdat or "").resource_id("c") == row.id
    return claim.id if mine else None


def claim_row_id(row: Any) -> str | None:
    key = row.data.get("idempotency_key")
    return idempotency.row_id(f"consultas:{row.data.get('user_id')}", key) if key else None


@dataclass
class Ended:
    """What ending one tenant's abandoned consultas did."""

    ended: int = 0
    credits_released: int = 0
    deferred: int = 0  # past the cutoff but started recently: looked at again on the next run
    live_claims: set[str] = field(default_factory=set)  # claims of consultas that may still run: keep them
    errors: list[str] = field(default_factory=list)


def end_consulta(tables: TablesDB, tenant_id: str, database_id: str, consulta_id: str, cutoff: datetime,
                 now: datetime | None = None) -> tuple[str, int]:
    """End one pending consulta if no execution can still be running it. Returns what happened — ``"ended"``,
    ``"running"`` (its execution started after ``cutoff``), ``"young"`` (accepted after ``cutoff``) or
    ``"done"`` (no longer pending, or gone) — and the credits released."""
    released: list[int] = []

    def build(unit: UnitOfWork) -> str:  # fresh reads on every attempt: a late execution may have won
        released.clear()
        row = _get(tables, database_id, TABLE, consulta_id)
        if row is None or row.data.get("status") != "pending":
            return "done"
        if _after(row.createdat, cutoff):
            return "young"
        run = _get(tables, database_id, idempotency.TABLE, run_token_id(consulta_id))
        if run is not None and _after(run.createdat, cutoff):
            return "running"
        stage_end(unit, database_id, consulta_id, "abandoned")  # one winner: this sweep or the settlement
        if run is None:  # never started: a late execution finds the run taken and does nothing
            unit.create(database_id, idempotency.TABLE, run_token_id(consulta_id),
                        _token(RUN_SCOPE, consulta_id, "abandoned"))
        hold = _hold(tables, database_id, consulta_id)
        if hold is not None:
            stage_release(unit, hold, reason=REASON)
            released.append(hold.amount)
        claim = _own_claim(tables, database_id, row)
        if claim is not None:
            unit.delete(database_id, idempotency.TABLE, claim)
        data = row.data
        details = {"user_id": data.get("user_id"), "category": data.get("category"), "error": ERROR_CODE,
                   "accepted_at": row.createdat, "started_at": run.createdat if run is not None else None,
                   "credits_released": sum(released), "key_freed": claim is not None}
        entry = stage_entry(tables, unit, AuditTrail.tenant(database_id), action=ACTION, actor=ACTOR,
                            resource_type="consulta", resource_id=consulta_id, details=details)
        unit.update(database_id, TABLE, consulta_id, {
            "status": "failed", "error": json.dumps({"code": ERROR_CODE, "message": MESSAGE}),
            "completed_at": (now or datetime.now(UTC)).isoformat(timespec="milliseconds"), "audit_id": entry.id})
        stage_event(unit, EVENT, tenant_id, {
            "consulta_id": consulta_id, "category": data.get("category"), "status": "failed", "cost": 0,
            "user_id": data.get("user_id"), "plugin_id": None, "sources": [], "error": ERROR_CODE,
            "audit_id": entry.id,
        }, actor=ACTOR, database_id=database_id)
        return "ended"

    try:
        outcome = uow.run(tables, build)
    except AppwriteException:
        # The execution settling between our reads and our commit fails the commit on the end token, on
        # ``held``'s minimum or on the claim it answered (whichever Appwrite checks first): "already done".
        row = _get(tables, database_id, TABLE, consulta_id)
        if row is None or row.data.get("status") != "pending":
            return "done", 0
        raise
    return outcome, sum(released) if outcome == "ended" else 0


def _after(created_at: str | None, cutoff: datetime) -> bool:
    return bool(created_at) and datetime.fromisoformat(str(created_at)) >= cutoff


def pending_rows(tables: TablesDB, database_id: str) -> list[Any]:
    """The tenant's pending consultas (few: the ones in flight), a page of 100 at a time."""
    found: list[Any] = []
    cursor: str | None = None
    while True:
        queries = [Query.equal("status", ["pending"]), Query.select(["$id", "$createdAt", "user_id",
                                                                       "idempotency_key"]),
                   Query.limit(PAGE), *([Query.cursor_after(cursor)] if cursor else [])]
        rows = tables.list_rows(database_id, TABLE, queries, total=False).rows
        found += rows
        if len(rows) < PAGE:
            return found
        cursor = rows[-1].id


def end_abandoned(tables: TablesDB, tenant_id: str, database_id: str, cutoff: datetime) -> Ended:
    """Every pending consulta of the tenant that can no longer be running, ended (one call if none)."""
    report = Ended()
    for row in pending_rows(tables, database_id):
        claim = claim_row_id(row)
        if _after(row.createdat, cutoff):
            if claim:
                report.live_claims.add(claim)
            continue
        try:
            outcome, credits = end_consulta(tables, tenant_id, database_id, row.id, cutoff)
        except Exception as error:  # one bad row must not keep the others pending
            report.errors.append(f"{tenant_id} consulta {row.id}: {error}"[:300])
            if claim:
                report.live_claims.add(claim)
            continue
        if outcome == "ended":
            report.ended += 1
            report.credits_released += credits
        elif outcome in ("running", "young"):
            report.deferred += outcome == "running"
            if claim:
                report.live_claims.add(claim)
    return report


__all__ = ["ACTION", "END_SCOPE", "ERROR_CODE", "EVENT", "RUN_SCOPE", "Ended", "end_abandoned", "end_consulta",
           "end_token_id", "pending_rows", "run_token_id", "stage_end", "take_run", "was_abandoned"]
