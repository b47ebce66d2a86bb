"""Ordered fallback between fontes, and the ``sources`` list that proves what was tried.

A consulta asks a *query* (``cpf``, ``cnpj``, ``fipe``…) of the tenant's fontes in order and stops at
the first **answer**: ``ok``, ``not_found`` ("nada consta", a valid and often billable answer),
``input_error`` (the source refused the input: another source would too, and may charge again), or
a **billable** ``failed`` (Infosimples 611/619/620: paid but unusable; falling back would pay twice).
It moves on after ``retryable`` (transient, not billable) and non-billable ``failed`` (misconfigured
fonte, undeployed function, plugin bug). A fonte answering ``failed``/``unsupported_query`` is skipped
silently: it was never asked, so it is not listed in ``sources``.

The run also keeps a time budget: Appwrite's synchronous executions give up after 30 s, so once the
budget is spent the remaining fontes are listed as ``retryable``/``budget_exhausted`` without a call.

With a ``Health`` (``bigtech.plugins.health``) every call is counted per fonte and query, and a fonte
whose circuit is open (too many recent failures) is listed as ``retryable``/``circuit_open`` without
a call, so a dead provider does not eat the time budget of every consulta.
"""

from __future__ import annotations

import contextvars
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .contract import FonteRef, PluginContext, PluginError, PluginResult, SourceAttempt, Status
from .fonte_client import FonteClient
from .health import Health

UNSUPPORTED = "unsupported_query"
MAX_PARALLEL = 4  # queries of one consulta asked at once (each a synchronous fonte execution)
DEFAULT_BUDGET_SECONDS = 25.0


def falls_back(result: PluginResult) -> bool:
    """True when the next fonte should be tried after ``result``."""
    if result.status is Status.RETRYABLE:
        return True
    return result.status is Status.FAILED and not result.billable


def is_unsupported(result: PluginResult) -> bool:
    return result.status is Status.FAILED and not result.billable and bool(result.errors) and \
        result.errors[0].code == UNSUPPORTED


@dataclass
class QueryOutcome:
    """How one query went: the answer that ended the search (``None`` if no fonte answered)."""

    query: str
    result: PluginResult | None
    attempts: list[SourceAttempt] = field(default_factory=list)
    answered_by: str | None = None

    @property
    def status(self) -> Status:
        if self.result is not None:
            return self.result.status
        return Status.RETRYABLE if any(a.status is Status.RETRYABLE for a in self.attempts) else Status.FAILED

    @property
    def data(self) -> dict[str, Any] | None:
        return self.result.data if self.result is not None else None

    @property
    def error(self) -> PluginError:
        """A summary error for a query that got no usable answer."""
        if self.result is not None and self.result.errors:
            return self.result.errors[0]
        tried = [a.plugin for a in self.attempts]
        if not tried:
            return PluginError(code="no_fonte_for_query", message=f"No configured fonte answers '{self.query}'.",
                               detail={"query": self.query})
        return PluginError(code="all_fontes_failed", message=f"No fonte answered '{self.query}'.",
                           detail={"query": self.query, "tried": tried})


class FonteRun:
    """One consulta's calls to its fontes; accumulates every attempt for ``sources``."""

    def __init__(
        self,
        client: FonteClient,
        ctx: PluginContext,
        fontes: list[FonteRef],
        budget_seconds: float | None = DEFAULT_BUDGET_SECONDS,
        clock: Any = time.monotonic,
        health: Health | None = None,
    ) -> None:
        self.client = client
        self.ctx = ctx
        self.fontes = list(fontes)
        self.clock = clock
        self.deadline = None if budget_seconds is None else clock() + budget_seconds
        self.attempts: list[SourceAttempt] = []
        self.health = health

    def ask(self, query: str, params: dict[str, Any], fontes: list[FonteRef] | None = None) -> QueryOutcome:
        """Ask ``query`` of ``fontes`` (default: the run's, in order) until one answers."""
        outcome = self._ask(query, params, fontes)
        self.attempts.extend(outcome.attempts)
        return outcome

    def ask_all(self, asks: list[tuple[str, dict[str, Any]]], max_workers: int = MAX_PARALLEL) -> list[QueryOutcome]:
        """Ask several independent queries at once (a small thread pool: each waits on a fonte execution).

        Each query still falls back through the fontes in order on its own; the attempts are recorded
        in the order of ``asks`` whatever order they finished in, so ``sources`` reads the same as
        when they were asked one after another. Every query is asked, so a consulta that ends on one
        unanswered query may still have paid (billable) answers to the others: ``billable`` says so.
        """
        if len(asks) <= 1 or max_workers <= 1:
            return [self.ask(query, params) for query, params in asks]
        with ThreadPoolExecutor(max_workers=min(max_workers, len(asks)), thread_name_prefix="fonte") as pool:
            # Each task runs in a copy of the caller's context: whatever the execution keeps in context
            # variables (the local stack's per-execution environment, for one) follows it to the thread.
            futures = [pool.submit(contextvars.copy_context().run, self._ask, query, params) for query, params in asks]
            outcomes = [future.result() for future in futures]
        for outcome in outcomes:
            self.attempts.extend(outcome.attempts)
        return outcomes

    def _ask(self, query: str, params: dict[str, Any], fontes: list[FonteRef] | None = None) -> QueryOutcome:
        outcome = QueryOutcome(query=query, result=None)
        candidates = self.fontes if fontes is None else fontes
        tripped = self.health.open_fontes([f.id for f in candidates], query) if self.health else set()
        for fonte in candidates:
            if fonte.id in tripped:
                outcome.attempts.append(SourceAttempt(
                    plugin=fonte.id, status=Status.RETRYABLE, query=query,
                    error=PluginError(code="circuit_open",
                                      message="Not tried: this fonte failed repeatedly in the last minutes."),
                ))
                continue
            if self.deadline is not None and self.clock() >= self.deadline:
                attempt = SourceAttempt(
                    plugin=fonte.id, status=Status.RETRYABLE, query=query,
                    error=PluginError(code="budget_exhausted", message="Not tried: the time budget was spent."),
                )
                outcome.attempts.append(attempt)
                continue
            started = self.clock()
            result = self.client.call(fonte, self.ctx, {"query": query, **params})
            elapsed_ms = int((self.clock() - started) * 1000)
            if is_unsupported(result):
                continue
            if self.health is not None:
                self.health.record(fonte.id, query, result, elapsed_ms)
            attempt = SourceAttempt(
                plugin=fonte.id,
                status=result.status,
                billable=result.billable,
                provider_cost_cents=result.provider_cost_cents,
                elapsed_ms=elapsed_ms,
                query=query,
                error=result.first_error if result.status is not Status.OK else None,
                meta=_meta(result),
            )
            outcome.attempts.append(attempt)
            if not falls_back(result):
                outcome.result = result
                outcome.answered_by = fonte.id
                break
        return outcome

    # -- the consulta's final answer ----------------------------------------------------------------

    @property
    def billable(self) -> bool:
        return any(a.billable for a in self.attempts)

    @property
    def provider_cost(self) -> Decimal:
        return sum((a.provider_cost for a in self.attempts if a.billable), Decimal("0"))

    def result(self, status: Status, data: dict[str, Any] | None = None,
               errors: list[PluginError] | None = None) -> PluginResult:
        """The consulta's ``PluginResult``: every attempt in ``sources``; billable and cost summed."""
        return PluginResult(
            status=status,
            data=data,
            errors=list(errors or []),
            sources=list(self.attempts),
            billable=self.billable,
            provider_cost_cents=sum(a.provider_cost_cents for a in self.attempts if a.billable),
        )


def _meta(result: PluginResult) -> dict[str, Any]:
    """The fonte's own provider bookkeeping (its single ``sources`` entry), if it gave any."""
    return dict(result.sources[0].meta) if result.sources else {}


__all__ = ["DEFAULT_BUDGET_SECONDS", "MAX_PARALLEL", "UNSUPPORTED", "FonteRun", "QueryOutcome", "falls_back",
           "is_unsupported"]
