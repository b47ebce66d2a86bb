"""The reaper: give back the credits of consultas that died half-way, and free their idempotency keys.

A consulta reserves its price (ledger ``hold``, wallet ``held`` up) before it runs, then settles or
releases it in one transaction. If the execution dies in between (crash, timeout, host restart), that
transaction never comes: the credits would stay ``held`` forever and the request's idempotency key
"in progress" (409) forever. ``billing``'s schedule (every 5 minutes) calls ``reap_marked``, which for
every tenant with a due ``credits`` marker (``bigtech.sweeps``: staged with each hold, and written by an
async consulta's accept; ``reap_all`` visits every tenant, for operators):

0. ends the pending async consultas whose execution died or never ran (``abandoned``: ``failed`` /
   ``consulta_abandoned``, their holds released, their keys freed), and keeps the claims of those that
   may still run out of step 2;
1. releases each ``hold`` older than ``STALE_AFTER`` that has neither a ``debit`` nor a ``release``
   (balance back up, ``held`` down, ledger ``release``), with an audit entry by ``system:reaper`` and
   a ``credits.released`` event, all in one transaction;
2. deletes the idempotency claims of ``consultas`` and ``grants`` still "in progress" after
   ``STALE_AFTER``, so the client's retry with the same key runs the request again.

**No race with a late settle.** Appwrite kills an execution at its ``timeout`` (appwrite.json:
consultas 60 s, billing 30 s), and a consulta's hold and claim are written inside that execution, so
nothing can settle a hold or complete a claim more than ``timeout`` after it was written.
``STALE_AFTER`` is ten times that, which also covers clock skew between the function hosts and the
database (``$createdAt`` is the database's clock). ``tests/core/test_reaper.py`` checks it against
appwrite.json. (The local stack does not kill a sync execution at its timeout; Appwrite does.)

**Exactly once.** The release's ledger row id derives from the hold's key (``<reference>:release``), so
it cannot be written twice; each release re-reads, inside its retried unit of work, whether the hold
was settled or released meanwhile (another reaper run), and then commits nothing.

**Cheap.** Only wallets with ``held > 0`` are looked at, and their holds are read newest first until
the unsettled ones add up to ``held``; in steady state that is the last few minutes of holds, not the
wallet's history.

Claims of other routes are left alone: ``orders`` writes the order before it asks the gateway for a
charge, so a cleared claim would not make its retry safe.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .. import idempotency, sweeps, uow
from ..audit.writer import AuditTrail, stage_entry
from ..outbox_writer import stage_event
from ..schema_constants import CORE_DATABASE_ID, tenant_database_id
from ..tenancy import PROVISION_ACTIVE
from . import abandoned, ledger, wallets
from .holds import Hold, settled, stage_release

# The longest execution that may hold credits or claim a key is consultas' 60 s timeout; ten times that.
STALE_AFTER = timedelta(minutes=10)
MARK_LEAD = timedelta(minutes=1)  # how long before its work a marker may be written (a grant marks, then claims)
ACTOR = "system:reaper"
ACTION = "credits.release_stale"
EVENT = "credits.released"
REASON = "stale hold: the consulta never finished"
# Routes whose claim, when stuck, guarantees nothing happened yet that a retry could repeat.
RETRYABLE_SCOPES = ("consultas:", "grants:")
PAGE = 50  # holds per page: their debit and release keys (2 × 50) fit in one query's 100 values
TENANTS_TABLE = "tenants"


@dataclass
class Report:
    """What one run did (summed over tenants by ``reap_all``)."""

    tenants: int = 0
    holds_released: int = 0
    credits_released: int = 0
    keys_cleared: int = 0
    consultas_abandoned: int = 0  # pending async consultas ended ``failed`` (``abandoned``)
    consultas_deferred: int = 0  # pending ones whose execution may still run: the tenant keeps its markers
    errors: list[str] = field(default_factory=list)
    complete: bool = True  # False when the time budget ran out before every tenant was scanned

    def add(self, other: Report) -> None:
        self.tenants += other.tenants
        self.holds_released += other.holds_released
        self.credits_released += other.credits_released
        self.keys_cleared += other.keys_cleared
        self.consultas_abandoned += other.consultas_abandoned
        self.consultas_deferred += other.consultas_deferred
        self.errors += other.errors

    def to_json(self) -> dict[str, Any]:
        return {"tenants": self.tenants, "holds_released": self.holds_released,
                "credits_released": self.credits_released, "keys_cleared": self.keys_cleared,
                "consultas_abandoned": self.consultas_abandoned, "consultas_deferred": self.consultas_deferred,
                "errors": self.errors[:20], "complete": self.complete}

    def line(self) -> str:
        return (f"reaper: {self.tenants} tenants scanned, {self.consultas_abandoned} abandoned consultas ended, "
                f"{self.holds_released} holds released ({self.credits_released} credits), "
                f"{self.keys_cleared} idempotency keys cleared, "
                f"{len(self.errors)} errors{'' if self.complete else ', stopped at the time budget'}")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def _rows(tables: TablesDB, database_id: str, table_id: str, queries: Sequence[str]) -> Iterator[Any]:
    """Every row matching ``queries``, a page of 100 at a time (insertion order)."""
    cursor: str | None = None
    while True:
        page = [*queries, Query.limit(100), *([Query.cursor_after(cursor)] if cursor else [])]
        rows = tables.list_rows(database_id, table_id, page, total=False).rows
        yield from rows
        if len(rows) < 100:
            return
        cursor = rows[-1].id


# -- holds --------------------------------------------------------------------------------------------------

def hold_of(database_id: str, row: Any) -> Hold | None:
    """The ``Hold`` a ledger ``hold`` row was written for (``None`` if ``reserve`` did not write it)."""
    data = row.data
    hold = Hold(database_id, str(data.get("wallet_id")), int(data.get("amount") or 0),
                str(data.get("reference_type") or ""), str(data.get("reference_id") or ""), actor=ACTOR)
    if not hold.reference_type or not hold.reference_id or data.get("idempotency_key") != hold.ledger_key("hold"):
        return None
    return hold


def outstanding_holds(tables: TablesDB, database_id: str, user_id: str) -> list[tuple[Hold, str]]:
    """The wallet's holds with neither debit nor release, newest first, each with its ``$createdAt``.

    Reads holds newest first and stops once the unsettled ones add up to the wallet's ``held`` (which is
    ``Σ hold - Σ debit - Σ release``). The wallet is read after the first page is listed and settlements
    are checked after that, so every hold counted was still outstanding when ``held`` was read (settling
    only goes one way): the sum reaches ``held`` only once every hold outstanding then has been seen.
    """
    found: list[tuple[Hold, str]] = []
    total, held, cursor = 0, None, None
    while True:
        queries = [Query.equal("wallet_id", [user_id]), Query.equal("type", ["hold"]),
                   Query.order_desc("$sequence"), Query.limit(PAGE), *([Query.cursor_after(cursor)] if cursor else [])]
        rows = tables.list_rows(database_id, ledger.TABLE, queries, total=False).rows
        if held is None:
            held = wallets.read_wallet(tables, database_id, user_id).held
        page = [(hold, row.createdat) for row in rows if (hold := hold_of(database_id, row)) is not None]
        done = settled(tables, database_id, [hold for hold, _ in page])
        for hold, created_at in page:
            if hold.key not in done:
                found.append((hold, created_at))
                total += hold.amount
        if total >= held or len(rows) < PAGE:
            return found
        cursor = rows[-1].id


def release_stale(tables: TablesDB, tenant_id: str, hold: Hold, held_since: str) -> bool:
    """Release one stale hold with its audit entry and event; ``False`` if it was settled or released meanwhile."""
    database_id = hold.database_id

    def build(unit: uow.UnitOfWork) -> bool:
        if settled(tables, database_id, [hold]):  # fresh read on every attempt: another run may have won
            return False
        stage_release(unit, hold, reason=REASON)
        details = {"user_id": hold.user_id, "credits": hold.amount, "held_since": held_since, "reason": REASON,
                   "release_entry_id": ledger.entry_id(hold.ledger_key("release"))}
        entry = stage_entry(tables, unit, AuditTrail.tenant(database_id), action=ACTION, actor=ACTOR,
                            resource_type=hold.reference_type, resource_id=hold.reference_id, details=details)
        stage_event(unit, EVENT, tenant_id, {
            "user_id": hold.user_id, "credits": hold.amount, "reference_type": hold.reference_type,
            "reference_id": hold.reference_id, "reason": REASON, "audit_id": entry.id,
        }, actor=ACTOR, database_id=database_id)
        return True

    try:
        return uow.run(tables, build)
    except Exception:
        # A run that released it between our read and our commit makes the commit fail on the release row
        # or on ``held``'s minimum (whichever Appwrite checks first): that is "already done", not an error.
        if settled(tables, database_id, [hold]):
            return False
        raise


def stale_holds(tables: TablesDB, database_id: str, cutoff: datetime) -> Iterator[tuple[Hold, str]]:
    """Every outstanding hold written before ``cutoff``, over the wallets that hold anything."""
    for wallet in _rows(tables, database_id, wallets.TABLE, [Query.greater_than("held", 0)]):
        for hold, created_at in outstanding_holds(tables, database_id, wallet.id):
            if created_at and datetime.fromisoformat(created_at) < cutoff:
                yield hold, created_at


# -- idempotency keys ---------------------------------------------------------------------------------------

def clear_stuck_claims(tables: TablesDB, database_id: str, cutoff: datetime,
                       keep: frozenset[str] | set[str] = frozenset()) -> int:
    """Delete the claims of ``RETRYABLE_SCOPES`` that never got an answer and are older than ``cutoff``,
    except ``keep`` (the claims of async consultas that may still be running: ``abandoned``)."""
    stuck = [row.id for row in _rows(tables, database_id, idempotency.TABLE, [
        Query.is_null("status_code"), Query.less_than("$createdAt", iso(cutoff)),
        Query.or_queries([Query.starts_with("scope", prefix) for prefix in RETRYABLE_SCOPES]),
        Query.select(["$id"]),
    ]) if row.id not in keep]
    cleared = 0
    for row_id in stuck:
        try:
            tables.delete_row(database_id, idempotency.TABLE, row_id)
            cleared += 1
        except AppwriteException as error:
            if error.code != 404:  # 404: a concurrent run cleared it
                raise
    return cleared


# -- runs ---------------------------------------------------------------------------------------------------

def reap_tenant(tables: TablesDB, tenant_id: str, now: datetime | None = None,
                stale_after: timedelta = STALE_AFTER) -> Report:
    """One tenant: end its abandoned async consultas (releasing their holds), release its other stale holds,
    then free its stuck idempotency keys (not those of consultas that may still run)."""
    cutoff = (now or datetime.now(UTC)) - stale_after
    database_id = tenant_database_id(tenant_id)
    report = Report(tenants=1)
    try:
        ended = abandoned.end_abandoned(tables, tenant_id, database_id, cutoff)
        report.consultas_abandoned, report.consultas_deferred = ended.ended, ended.deferred
        report.credits_released += ended.credits_released
        report.errors += ended.errors
        for hold, created_at in list(stale_holds(tables, database_id, cutoff)):
            try:
                if release_stale(tables, tenant_id, hold, created_at):
                    report.holds_released += 1
                    report.credits_released += hold.amount
            except Exception as error:  # one bad hold must not keep the others held
                report.errors.append(f"{tenant_id} {hold.key}: {error}"[:300])
        report.keys_cleared = clear_stuck_claims(tables, database_id, cutoff, ended.live_claims)
    except AppwriteException as error:
        if error.code != 404:  # 404: the tenant's database is not provisioned (yet): nothing to reap
            report.errors.append(f"{tenant_id}: {error.code} {error.type}: {error}"[:300])
    return report


def tenant_ids(tables: TablesDB) -> list[str]:
    """Every provisioned tenant: one still provisioning, or whose provisioning failed, has no database
    to sweep yet (a row without the column predates asynchronous provisioning and is provisioned)."""
    rows = _rows(tables, CORE_DATABASE_ID, TENANTS_TABLE, [Query.select(["$id", "provisioning"])])
    return [row.id for row in rows if (row.data.get("provisioning") or PROVISION_ACTIVE) == PROVISION_ACTIVE]


def reap_marked(tables: TablesDB, now: datetime | None = None, *, budget_seconds: float = 20.0) -> Report:
    """The schedule's run: only the tenants whose ``credits`` markers are due (``bigtech.sweeps``: written
    with each hold, due once it could be stale), in random order; a tenant's markers are deleted once it was
    reaped without error and has no pending consulta left to look at again (``abandoned``). Idle tenants
    cost nothing: with no due marker the run is one call."""
    budget = sweeps.Budget(budget_seconds)
    moment = now or datetime.now(UTC)
    # a marker written just before its work (``sweeps.mark``) is due a minute later than the work is stale
    marked = sweeps.due(tables, sweeps.CREDITS, older_than=STALE_AFTER + MARK_LEAD, now=moment)
    order = list(marked)
    random.shuffle(order)
    report, finished = Report(), []
    for database_id in order:
        if budget.spent:
            report.complete = False
            break
        tenant = reap_tenant(tables, sweeps.tenant_of(database_id), moment)
        report.add(tenant)
        if not tenant.errors and not tenant.consultas_deferred:  # deferred: look again on the next run
            finished += marked[database_id]
    try:
        sweeps.clear(tables, finished)
    except AppwriteException as error:  # the markers stay: the next run visits those tenants once more
        report.errors.append(f"markers not cleared: {error.code} {error.type}: {error}"[:300])
    return report


def reap_all(tables: TablesDB, now: datetime | None = None, *, budget_seconds: float = 20.0) -> Report:
    """Every tenant (in random order, so a run cut short by the budget does not starve the same ones)."""
    started = time.monotonic()
    order = tenant_ids(tables)
    random.shuffle(order)
    report = Report()
    for tenant_id in order:
        if time.monotonic() - started > budget_seconds:
            report.complete = False
            break
        report.add(reap_tenant(tables, tenant_id, now))
    return report


__all__ = [
    "ACTION", "ACTOR", "EVENT", "RETRYABLE_SCOPES", "STALE_AFTER", "Report", "clear_stuck_claims", "hold_of",
    "outstanding_holds", "reap_all", "reap_marked", "reap_tenant", "release_stale", "settled", "stale_holds",
    "tenant_ids",
]
