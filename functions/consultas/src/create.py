"""``POST /``: one paid consulta, charged at most once — the HTTP adapter of ``service.run_consulta``.

Answers ``{"consulta": {...}}`` (201; a replay with the same ``idempotency-key`` answers the first
consulta again). With ``"async": true`` or ``prefer: respond-async`` it answers 202 with the consulta
``pending`` and the flow runs in an async execution instead (``deferred.py``).

The handler validates and turns the request into a ``ConsultaCommand``; the flow (below) is in
``service.py`` over an ``AppwriteGateway`` (the SDK with this execution's key):

1. validate the body and the input for the category (422; nothing reserved yet);
2. ``idempotency-key``: a replay returns the first answer (and charges nothing more);
3. price it from the tenant's price table and find the tenant's consulta plugin and fontes (409 if
   the category is not enabled);
4. reserve the price: atomic decrement with ``min=0`` + ``hold`` (402 with balance and price);
5. run the consulta plugin (a synchronous execution; its fontes fall back in order);
6. one transaction: the consulta row + ``debit`` (answer or billable error) or ``release`` (timeout,
   non-billable error) + audit entry + ``consulta.completed|failed`` + the stored idempotent answer.
   If that transaction cannot be made, the reservation is released on its own.

Documents never reach the logs unmasked (``request.log`` masks; only masked input is stored).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar

from appwrite.id import ID
from appwrite.services.functions import Functions
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access, documents, idempotency, lazy, market, uow
from bigtech.audited import Actor
from bigtech.credits import Hold, release_now, reserve
from bigtech.http import Request, Response, created
from bigtech.identity import current
from bigtech.plugin_loader import routing, state
from bigtech.plugins import ConsultaInput, PluginResult, validate_input
from bigtech.storage import Audience
from bigtech.storage.receipts import receipt_urls, store_source_receipts
from bigtech.subjects import document_key
from bigtech.uow import UnitOfWork

from . import render, runner
from .models import ConsultaBody, wants_async
from .service import ConsultaCommand, ConsultaOutcome, run_consulta

if TYPE_CHECKING:
    from . import deferred
else:  # the async path (its job model and execution call) loads only when a consulta asks for it
    deferred = lazy.module(f"{__package__}.deferred")

T = TypeVar("T")

TABLE = "consultas"


def document_hash(lookup: ConsultaInput, key: bytes | None) -> str | None:
    if key is None:
        return None
    if lookup.document and lookup.document_type:
        return documents.hash_document(lookup.document_type, lookup.document, key)
    if lookup.plate:
        return documents.hash_document("placa", lookup.plate, key)
    if lookup.renavam:
        return documents.hash_document("renavam", lookup.renavam, key)
    return None


def fingerprint(body: ConsultaBody, lookup: ConsultaInput, key: bytes | None) -> str:
    """What makes two requests "the same" for idempotency; keyed, so it reveals no document."""
    fields = {"category": body.category, "input": lookup.to_json(), "purpose": body.purpose,
              "legal_basis": body.legal_basis, **({"product": body.product} if body.product else {})}
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    if key is None:
        return hashlib.sha256(canonical.encode()).hexdigest()
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def replay(tables: TablesDB, database_id: str, stored: idempotency.Stored) -> Response:
    """The first answer again: the stored pointer names the consulta, rendered from its row."""
    body = stored.body if isinstance(stored.body, dict) else {}
    consulta_id = body.get("consulta_id")
    if not consulta_id:
        return stored.response()
    public = render.to_public(tables.get_row(database_id, TABLE, consulta_id))
    public.pop("created_at")
    return Response(stored.status, {"consulta": public}, {idempotency.REPLAY_HEADER: "true"})


class AppwriteGateway:
    """``service.Gateway`` over the SDK with this execution's key (built per request, never cached)."""

    def __init__(self, request: Request) -> None:
        client = appwrite_access.key_client(request)
        self.tables = TablesDB(client)
        self.functions = Functions(client)
        self.storage = Storage(client)
        self.request_log = request.log
        self._plugins: dict[str, state.TenantPlugin] | None = None
        self._claim: idempotency.Claim | None = None  # taken by the reservation's transaction, not on its own
        self._claim_written = False
        self._fingerprint = ""

    def plugins(self, database_id: str) -> dict[str, state.TenantPlugin]:
        """The tenant's plugin rows, read once per execution: the market terms and the route both need them."""
        if self._plugins is None:
            self._plugins = state.load(self.tables, database_id)
        return self._plugins

    def claim(self, database_id: str, scope: str, key: str, fingerprint: str) -> idempotency.Claim | idempotency.Stored:
        """No call here: the claim row is created in the reservation's transaction (``reserve``), so the key
        is taken exactly when the credits are; a duplicate shows up as that transaction's refusal."""
        self._claim = idempotency.unwritten_claim(database_id, scope, key, ID.unique())
        self._fingerprint, self._claim_written = fingerprint, False
        return self._claim

    def release_claim(self, claimed: idempotency.Claim | None) -> idempotency.Stored | None:
        if claimed is not None and claimed is self._claim and not self._claim_written:
            # Refused before the claim was written: was the key the reason? (its answer, 409 or 422)
            return idempotency.held_by_another(self.tables, claimed, self._fingerprint)
        idempotency.release(self.tables, claimed)
        return None

    def route(self, tenant_id: str, database_id: str, category: str) -> routing.Route:
        return routing.resolve(self.tables, tenant_id, database_id, category, self.plugins(database_id))

    def reserve(self, hold: Hold) -> None:
        claimed = self._claim if not self._claim_written else None
        if claimed is None:
            reserve(self.tables, hold)
            return

        def stage(unit: UnitOfWork) -> None:
            idempotency.stage_claim(unit, claimed, self._fingerprint)

        if hold.amount > 0:
            reserve(self.tables, hold, first=stage)
        else:  # a free consulta holds nothing: the claim on its own (a duplicate's 409: see release_claim)
            unit = UnitOfWork()
            stage(unit)
            uow.commit(self.tables, unit.operations)
        self._claim_written = True

    def member_terms(self, command: ConsultaCommand) -> market.MemberTerms:
        varejo = self.plugins(command.database_id).get(market.VAREJO)
        return market.member_terms(self.tables, command.database_id, command.settings, command.body.category,
                                   command.user_id, command.body.product,
                                   varejo.config if varejo and varejo.enabled else None)

    def reserve_spend(self, member: market.MemberTerms) -> None:
        member.reserve_spend(self.tables)

    def give_back(self, member: market.MemberTerms) -> None:
        member.give_back(self.tables)

    def release_hold(self, hold: Hold, reason: str) -> None:
        release_now(self.tables, hold, reason=reason)

    def execute(self, route: routing.Route, tenant_id: str, consulta_id: str, lookup: ConsultaInput) -> PluginResult:
        return runner.run(self.functions, route, tenant_id, consulta_id, lookup)

    def store_receipts(self, command: ConsultaCommand, consulta_id: str, result: PluginResult) -> list[dict[str, Any]]:
        if not receipt_urls(result.sources):
            return []
        return store_source_receipts(self.storage, Audience(command.tenant_id, command.user_id), consulta_id,
                                     result.sources, self.request_log.log)

    def transact(self, build: Callable[[UnitOfWork], T]) -> T:
        return uow.run(self.tables, build)

    def log(self, message: str) -> None:
        self.request_log.log(message)

    def log_exception(self, message: str, error: BaseException) -> None:
        self.request_log.exception(message, error)


def command_for(request: Request, body: ConsultaBody, identity: Any, tenant: Any) -> ConsultaCommand:
    lookup = validate_input(body.category, body.lookup_input())
    key = document_key()
    return ConsultaCommand(
        tenant_id=tenant.id, database_id=identity.database_id, actor=Actor.of(identity), settings=tenant.settings,
        body=body, lookup=lookup, idempotency_key=idempotency.read_key(request),
        fingerprint=fingerprint(body, lookup, key), document_hash=document_hash(lookup, key),
        terms=getattr(identity, "consulta_terms", None))


def answer(gateway: AppwriteGateway, command: ConsultaCommand, outcome: ConsultaOutcome) -> Response:
    """201 ``{"consulta"}`` for a new consulta, or the replayed first answer."""
    if outcome.stored is not None:
        return replay(gateway.tables, command.database_id, outcome.stored)
    # Rendered exactly as a replay renders the stored row, so the first answer and a replay match.
    public = render.to_public(SimpleNamespace(id=outcome.consulta_id, data=outcome.row, createdat=None))
    public.pop("created_at")
    return created({"consulta": public})


def create(request: Request) -> Any:
    """The HTTP adapter: request → ``ConsultaCommand`` → ``run_consulta`` → 201 (or the replayed answer);
    asked to run asynchronously → ``deferred.accept`` → 202."""
    body = request.model(ConsultaBody)
    identity = current(request)
    command = command_for(request, body, identity, identity.require_tenant())  # 422s before anything runs
    gateway = AppwriteGateway(request)
    if wants_async(body, request.header("prefer")):
        return deferred.accept(request, gateway.tables, command, replay)
    return answer(gateway, command, run_consulta(command, gateway))
