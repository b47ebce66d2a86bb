"""``ConsultaPlugin``: base of the category plugins (``consulta-*``).

It does the part every consulta shares, so a subclass only composes fonte answers into its category:

1. validate the input for the manifest's category and inputs (``input_error``/``invalid_input``, never
   billable, if CORE let a bad document through);
2. pick the fontes: the ordered list CORE sent (the tenant's config), else the manifest's
   ``default_fontes``;
3. hand the subclass a ``FonteRun`` (ordered fallback + ``sources``) through ``consult``;
4. check the normalized ``data`` against the category's JSON Schema: a mismatch is our bug, answered as
   ``failed``/``invalid_data`` (billing facts kept) instead of handing the customer a broken report.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import Unprocessable
from .base import Plugin
from .categories import problems as category_problems
from .contract import FonteRef, PluginContext, PluginError, PluginResult, Status
from .fallback import DEFAULT_BUDGET_SECONDS, FonteRun, QueryOutcome
from .fonte_client import AppwriteFonteClient, FonteClient
from .health import AppwriteHealthStore, BreakerPolicy, Health, HealthStore
from .inputs import ConsultaInput, validate_input
from .manifest import Manifest

ClientFactory = Callable[[PluginContext], FonteClient]


class ConsultaPlugin(Plugin):
    def __init__(self, manifest: Manifest | None = None, fonte_client: FonteClient | ClientFactory | None = None,
                 health_store: HealthStore | None = None):
        super().__init__(manifest)
        self._fonte_client = fonte_client
        self._health_store = health_store

    def health(self, ctx: PluginContext) -> Health | None:
        """Provider health and the circuit breaker: the injected store (tests), else the core table
        through this execution's key; ``None`` (no counting) when neither is available."""
        store = self._health_store
        if store is None and ctx.runtime is not None:
            try:
                store = AppwriteHealthStore.for_execution(ctx.runtime)
            except Exception:  # no key / endpoint: run without health rather than fail the consulta
                store = None
        if store is None:
            return None
        from ..log import FunctionLogger

        log = FunctionLogger(ctx.runtime) if ctx.runtime is not None else None
        return Health(store, ctx.tenant_id, BreakerPolicy.from_config(ctx.config), log=log)

    def fonte_client(self, ctx: PluginContext) -> FonteClient:
        """The injected client (tests) or one over Appwrite executions with this execution's key."""
        if self._fonte_client is None:
            return AppwriteFonteClient.for_execution(ctx.runtime)
        if hasattr(self._fonte_client, "call"):
            return self._fonte_client
        return self._fonte_client(ctx)

    def fontes(self, ctx: PluginContext) -> list[FonteRef]:
        """CORE's ordered fontes (with their configs); else ``config.fontes`` ids; else the manifest's."""
        if ctx.fontes:
            return list(ctx.fontes)
        configured = ctx.config.get("fontes")
        ids = configured if isinstance(configured, list) and configured else self.manifest.default_fontes
        return [FonteRef(id=fonte_id) for fonte_id in ids if isinstance(fonte_id, str)]

    @staticmethod
    def unanswered(run: FonteRun, outcome: QueryOutcome) -> PluginResult:
        """The consulta's answer when a required query got no data: its status, its error, all sources."""
        status = outcome.status
        if status is Status.OK:  # an ok without data is a fonte bug; do not pass it off as an answer
            status = Status.FAILED
        errors = [] if status is Status.NOT_FOUND else [outcome.error]
        return run.result(status, errors=errors)

    def execute(self, ctx: PluginContext) -> PluginResult:
        try:
            consulta_input = validate_input(self.manifest.category or "", ctx.input, self.manifest.inputs)
        except Unprocessable as error:
            return PluginResult(
                status=Status.INPUT_ERROR,
                errors=[PluginError(code="invalid_input", message=error.message, detail={"fields": error.details})],
            )
        fontes = self.fontes(ctx)
        if not fontes:
            return PluginResult.error(Status.FAILED, "no_fontes", "No fonte is configured for this consulta.")
        budget = ctx.config.get("budget_seconds", DEFAULT_BUDGET_SECONDS)
        health = self.health(ctx)
        run = FonteRun(self.fonte_client(ctx), ctx, fontes, budget_seconds=float(budget) if budget else None,
                       health=health)
        try:
            result = self.consult(consulta_input, run, ctx)
        finally:
            if health is not None:
                health.flush()  # the run's counts, written once (bigtech.plugins.health)
        if result.data is not None:
            found = category_problems(self.manifest.category or "", result.data)
            if found:
                return run.result(Status.FAILED, errors=[PluginError(
                    code="invalid_data", message="The normalized answer broke the category schema.",
                    detail={"problems": [p.split(":")[0] for p in found]},  # paths only: values may be documents
                )])
        return result

    def consult(self, consulta_input: ConsultaInput, run: FonteRun, ctx: PluginContext) -> PluginResult:
        """Ask the fontes (``run.ask``) and build the answer (``run.result``)."""
        raise NotImplementedError


__all__ = ["ConsultaPlugin"]
