"""Provider health: per-fonte, per-query counters bucketed by minute, and the circuit breaker built on them.

Every fonte call a consulta makes is counted in the core table ``provider_health``, one row per
(tenant, fonte, query, minute) with atomic counters: ``calls``, ``successes`` (``ok``/``not_found``),
``billable``, ``errors`` (``retryable`` and non-billable ``failed``: the fonte did not answer) and
``latency_ms_total`` (so ``latency_ms_total / calls`` is the mean). A metrics function can sum them by
fonte and query over any window. Rows are written with the consulta execution's key (scopes
``rows.read``/``rows.write``): the first call of a minute creates the row with its values, later
ones increment (Appwrite's atomic ``increment_row_column``), so concurrent consultas never lose a count.

The breaker (``FonteRun`` asks it before each call): a fonte whose ``errors`` for this query in the
last ``window_minutes`` reach ``failures`` **and** outnumber its successes is skipped — listed in
``sources`` as ``retryable``/``circuit_open``, no call, nothing billed — until the window slides past
the failures. Keyed by tenant, because one tenant's broken token must not close a fonte for others.
Health is best effort: a store that cannot be read or written never fails a consulta.

Cost per consulta execution (Appwrite calls): one ``list_rows`` for the breaker, read once for all the
run's queries (``windows``; per query only when one page cannot hold them), and the counts written once
at the end of the execution (``Health.flush``), ONE call per (fonte, query, minute) row the run touched:
an ``update_row`` whose DB operators (``Operator.increment``) move all its counters atomically when the
breaker's read saw the row, else a ``create_row`` with the counts (a lost race for the create → 409 →
the update; a row missing after all → 404 → the create). Cadastral touches one row, veicular two,
credito three (1 / 2 / 3 calls instead of a 3-call transaction). Not a transaction: Appwrite commits
staged increments with optimistic concurrency (409 ``transaction_conflict`` when another consulta moved
the same row after staging), and these rows are the hottest a tenant has; a direct operator update
never conflicts. For the same reason the counts are not staged into CORE's settlement transaction: a
busy fonte row would fail settlements, and a row of a new minute (not there yet) would fail the whole
money transaction. A server that refuses operators (400) gets the per-column increments instead.
A fonte answered in this execution is not counted for a later query of the same execution: the
breaker only ever looked at the query being asked, and a run asks each query once.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .contract import PluginResult, Status

TABLE_ID = "provider_health"
CORE_DATABASE_ID = "core"
COUNTERS = ("calls", "successes", "billable", "errors", "latency_ms_total")  # the table's counter columns
WINDOW_PAGE = 500

# The table itself is declared with the core database (bigtech.schema.core.PROVIDER_HEALTH).


def minute_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def counters_for(result: PluginResult, elapsed_ms: int) -> dict[str, int]:
    """What one answer adds to the counters."""
    answered = result.status in (Status.OK, Status.NOT_FOUND, Status.INPUT_ERROR) or result.billable
    return {
        "calls": 1,
        "successes": int(result.status in (Status.OK, Status.NOT_FOUND)),
        "billable": int(result.billable),
        "errors": int(not answered),
        "latency_ms_total": max(0, int(elapsed_ms)),
    }


@dataclass(frozen=True)
class Window:
    errors: int = 0
    successes: int = 0
    calls: int = 0


class HealthStore(Protocol):
    def record(self, tenant_id: str, fonte: str, query: str, minute: str, counters: dict[str, int]) -> None: ...

    def window(self, tenant_id: str, fontes: Iterable[str], query: str, since_minute: str) -> dict[str, Window]: ...

    # Optional (used when a store has them): ``windows(tenant_id, fontes, since_minute)`` → {query: {fonte:
    # Window}} or None when it cannot read them all at once; ``record_many(tenant_id, [(fonte, query,
    # minute, counters)])``.


Record = tuple[str, str, str, dict[str, int]]  # (fonte, query, minute, counters)


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5
    window_minutes: int = 5

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> BreakerPolicy:
        return cls(failures=int(config.get("circuit_breaker_failures", cls.failures)),
                   window_minutes=int(config.get("circuit_breaker_minutes", cls.window_minutes)))

    @property
    def enabled(self) -> bool:
        return self.failures > 0 and self.window_minutes > 0

    def open(self, window: Window) -> bool:
        return self.enabled and window.errors >= self.failures and window.errors > window.successes


class Health:
    """What ``FonteRun`` talks to: records answers and says which fontes are open; never raises."""

    def __init__(self, store: HealthStore, tenant_id: str, policy: BreakerPolicy = BreakerPolicy(),
                 now: Any = lambda: datetime.now(UTC), log: Any = None) -> None:
        self.store = store
        self.tenant_id = tenant_id
        self.policy = policy
        self.now = now
        self.log = log
        self._lock = threading.Lock()  # a consulta may ask its fontes from several threads
        self._read_lock = threading.Lock()
        self._pending: list[Record] = []
        self._windows: dict[tuple[str, ...], dict[str, dict[str, Window]] | None] = {}  # per-execution memo

    def open_fontes(self, fonte_ids: list[str], query: str) -> set[str]:
        if not self.policy.enabled or not fonte_ids:
            return set()
        since = minute_of(self.now() - timedelta(minutes=self.policy.window_minutes - 1))
        fontes = sorted(set(fonte_ids))
        try:
            by_query = self._all_windows(fontes, since)
            windows = by_query.get(query, {}) if by_query is not None else \
                self.store.window(self.tenant_id, fontes, query, since)
        except Exception as error:  # health is advisory: a broken store closes nothing
            self._warn(f"provider health unreadable ({type(error).__name__}); circuit breaker skipped")
            return set()
        return {fonte for fonte, window in windows.items() if self.policy.open(window)}

    def _all_windows(self, fontes: list[str], since: str) -> dict[str, dict[str, Window]] | None:
        """Every query's windows for these fontes, read once per execution (None: ask per query)."""
        read_all = getattr(self.store, "windows", None)
        if read_all is None:
            return None
        key = (since, *fontes)
        with self._read_lock:  # concurrent queries wait for the first read instead of each reading
            if key not in self._windows:
                self._windows[key] = read_all(self.tenant_id, fontes, since)
            return self._windows[key]

    def record(self, fonte: str, query: str, result: PluginResult, elapsed_ms: int) -> None:
        """Counted now, written by ``flush`` (once, at the end of the execution)."""
        with self._lock:
            self._pending.append((fonte, query, minute_of(self.now()), counters_for(result, elapsed_ms)))

    def flush(self) -> None:
        """Write what ``record`` counted: in one go when the store can, else one row at a time."""
        with self._lock:
            pending, self._pending = self._pending, []
        if not pending:
            return
        record_many = getattr(self.store, "record_many", None)
        if record_many is not None:
            try:
                record_many(self.tenant_id, pending)
                return
            except Exception as error:
                self._warn(f"provider health not recorded ({type(error).__name__})")
                return
        for fonte, query, minute, counters in pending:
            try:
                self.store.record(self.tenant_id, fonte, query, minute, counters)
            except Exception as error:
                self._warn(f"provider health not recorded for {fonte}/{query} ({type(error).__name__})")

    def _warn(self, message: str) -> None:
        if self.log is not None:
            self.log.error(message)


def row_id(tenant_id: str, fonte: str, query: str, minute: str) -> str:
    return hashlib.sha256(f"{tenant_id}|{fonte}|{query}|{minute}".encode()).hexdigest()[:32]


class AppwriteHealthStore:
    """``provider_health`` in the core database through the SDK (build one per execution)."""

    operators = True  # False once a server refused DB operators (400): this worker increments per column

    def __init__(self, tables: Any, database_id: str = CORE_DATABASE_ID) -> None:
        self.tables = tables
        self.database_id = database_id
        self.seen: set[tuple[str, str, str]] = set()  # (fonte, query, minute) rows the breaker's read returned

    @classmethod
    def for_execution(cls, runtime_context: Any) -> AppwriteHealthStore:
        from ..appwrite_access import tables

        return cls(tables(runtime_context))

    def record(self, tenant_id: str, fonte: str, query: str, minute: str, counters: dict[str, int],
               exists: bool = False) -> None:
        """One call: the create of the minute's row with these counts, or (``exists``, or the create lost a
        race) one update that increments them."""
        from appwrite.exception import AppwriteException

        rid = row_id(tenant_id, fonte, query, minute)
        if not exists:
            try:
                self._create(tenant_id, fonte, query, minute, counters)
                return
            except AppwriteException as error:
                if error.code != 409:
                    raise
        try:
            self._increment(rid, counters)
        except AppwriteException as error:
            if error.code != 404 or not exists:
                raise
            self._create(tenant_id, fonte, query, minute, counters)  # seen, yet gone: count it in a new row

    def record_many(self, tenant_id: str, records: list[Record]) -> None:
        """Every row the run touched, one call each (see the module's cost note); a failure on one row
        does not cost the others their counts."""
        merged: dict[tuple[str, str, str], dict[str, int]] = {}
        for fonte, query, minute, counters in records:
            row = merged.setdefault((fonte, query, minute), dict.fromkeys(COUNTERS, 0))
            for column, value in counters.items():
                row[column] += value
        failure: Exception | None = None
        for key, counters in merged.items():
            try:
                self.record(tenant_id, *key, counters, exists=key in self.seen)
            except Exception as error:
                failure = failure or error
        if failure is not None:
            raise failure

    def _create(self, tenant_id: str, fonte: str, query: str, minute: str, counters: dict[str, int]) -> None:
        self.tables.create_row(self.database_id, TABLE_ID, row_id(tenant_id, fonte, query, minute), {
            "tenant_id": tenant_id, "fonte": fonte, "query": query, "minute": minute, **counters})

    def _increment(self, rid: str, counters: dict[str, int]) -> None:
        """All the counters in one atomic update (DB operators), or per column where operators are refused."""
        from appwrite.exception import AppwriteException
        from appwrite.operator import Operator

        changes = {column: value for column, value in counters.items() if value}
        if not changes:
            return
        if AppwriteHealthStore.operators:
            try:
                self.tables.update_row(self.database_id, TABLE_ID, rid,
                                       {column: Operator.increment(value) for column, value in changes.items()})
                return
            except AppwriteException as error:
                if error.code != 400:
                    raise
                AppwriteHealthStore.operators = False  # a server without operators: a string is no integer
        for column, value in changes.items():
            self.tables.increment_row_column(self.database_id, TABLE_ID, rid, column, value)

    def _saw(self, rows: Iterable[dict[str, Any]]) -> None:
        for data in rows:
            self.seen.add((str(data.get("fonte")), str(data.get("query")), str(data.get("minute"))))

    def window(self, tenant_id: str, fontes: Iterable[str], query: str, since_minute: str) -> dict[str, Window]:
        from appwrite.query import Query

        rows = self.tables.list_rows(self.database_id, TABLE_ID, [
            Query.equal("tenant_id", [tenant_id]), Query.equal("fonte", list(fontes)),
            Query.equal("query", [query]), Query.greater_than_equal("minute", since_minute), Query.limit(WINDOW_PAGE),
        ]).rows
        found = [row.data if hasattr(row, "data") else row for row in rows]
        self._saw(found)
        return _sum(found)

    def windows(self, tenant_id: str, fontes: Iterable[str], since_minute: str) -> dict[str, dict[str, Window]] | None:
        """Every query's windows in one read; ``None`` when one page cannot hold them (ask per query)."""
        from appwrite.query import Query

        rows = self.tables.list_rows(self.database_id, TABLE_ID, [
            Query.equal("tenant_id", [tenant_id]), Query.equal("fonte", list(fontes)),
            Query.greater_than_equal("minute", since_minute), Query.limit(WINDOW_PAGE),
        ], total=False).rows
        if len(rows) >= WINDOW_PAGE:
            return None
        by_query: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            data = row.data if hasattr(row, "data") else row
            by_query.setdefault(str(data.get("query")), []).append(data)
        self._saw(data for found in by_query.values() for data in found)
        return {query: _sum(found) for query, found in by_query.items()}


class MemoryHealthStore:
    """In-process store for unit tests (same semantics, a dict instead of a table)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], dict[str, int]] = {}
        self._lock = threading.Lock()

    def record(self, tenant_id: str, fonte: str, query: str, minute: str, counters: dict[str, int]) -> None:
        with self._lock:
            row = self.rows.setdefault((tenant_id, fonte, query, minute), dict.fromkeys(COUNTERS, 0))
            for column, value in counters.items():
                row[column] += value

    def window(self, tenant_id: str, fontes: Iterable[str], query: str, since_minute: str) -> dict[str, Window]:
        wanted = set(fontes)
        return _sum({"fonte": f, **row} for (t, f, q, m), row in self.rows.items()
                    if t == tenant_id and f in wanted and q == query and m >= since_minute)


def _sum(rows: Iterable[dict[str, Any]]) -> dict[str, Window]:
    totals: dict[str, Window] = {}
    for row in rows:
        current = totals.get(row["fonte"], Window())
        totals[row["fonte"]] = Window(errors=current.errors + int(row.get("errors") or 0),
                                      successes=current.successes + int(row.get("successes") or 0),
                                      calls=current.calls + int(row.get("calls") or 0))
    return totals


__all__ = [
    "AppwriteHealthStore",
    "BreakerPolicy",
    "Health",
    "HealthStore",
    "MemoryHealthStore",
    "Window",
    "counters_for",
    "minute_of",
]
