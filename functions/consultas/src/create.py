"""``POST /``: one paid consulta, charged at most once.

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
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access, documents, idempotency, market, secrets_box
from bigtech.audit import AuditTrail
from bigtech.audited import Actor, Event
from bigtech.credits import Hold, release_now, reserve, stage_release, stage_settle
from bigtech.http import Request, Response, created
from bigtech.identity import current
from bigtech.plugin_loader import routing
from bigtech.plugins import ConsultaInput, PluginResult, validate_input
from bigtech.settings import load_settings
from bigtech.uow import UnitOfWork

from . import render, runner
from .models import ConsultaBody

TABLE = "consultas"


def document_key() -> bytes | None:
    """Key of the document HMAC (search key for history/DSAR): ``BIGTECH_DATA_KEY``, else one derived
    from the secrets key; ``None`` when neither is configured (no hash is stored then)."""
    data_key = load_settings().data_key
    if data_key:
        return data_key.encode("utf-8")
    try:
        return hmac.new(secrets_box.load_key(), b"bigtech-document-hash", hashlib.sha256).digest()
    except secrets_box.SecretsKeyMissing:
        return None


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
    canonical = json.dumps({"category": body.category, "input": lookup.to_json(), "purpose": body.purpose,
                            "legal_basis": body.legal_basis}, sort_keys=True, separators=(",", ":"))
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
    return Response(stored.status, public, {idempotency.REPLAY_HEADER: "true"})


def create(request: Request) -> Any:
    body = request.model(ConsultaBody)
    lookup = validate_input(body.category, body.lookup_input())
    identity = current(request)
    tenant = identity.require_tenant()
    tenant_id, database_id, user_id = tenant.id, identity.database_id, identity.user_id
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    key = document_key()

    scope = f"consultas:{user_id}"
    idempotency_key = idempotency.read_key(request)
    claimed: idempotency.Claim | None = None
    if idempotency_key:
        got = idempotency.claim(tables, database_id, scope, idempotency_key, fingerprint(body, lookup, key))
        if isinstance(got, idempotency.Stored):
            return replay(tables, database_id, got)
        claimed = got
    consulta_id = claimed.resource_id("c") if claimed else ID.unique()
    # A caller that is not a member (mercado-atacado's API key, docs/mercado.md) brings its own terms:
    # the price of its volume band, the wallet it spends from and the columns that name it on the row.
    terms = getattr(identity, "consulta_terms", None)
    # A member pays the market plugin's price within their monthly limit (bigtech.market, mercado-varejo).
    member = None if terms else market.member_terms(tables, database_id, tenant.settings, body.category, user_id)
    price = terms.price(body.category) if terms else member.price
    hold = Hold(database_id, terms.wallet_id if terms else user_id, price, "consulta", consulta_id, actor=user_id)
    try:
        route = routing.resolve(tables, tenant_id, database_id, body.category)
        if member:
            member.reserve_spend(tables)  # 402 monthly_limit_reached
        reserve(tables, hold)
    except BaseException:
        if member:
            member.give_back(tables)
        idempotency.release(tables, claimed)
        raise

    try:  # from here on the credits are held: any failure gives them back and frees the key
        started = datetime.now(UTC)
        result = runner.run(Functions(client), route, tenant_id, consulta_id, lookup)
        status = render.consulta_status(result)
        charged = render.charges(result)
        sources = render.public_sources(result)
        masked = lookup.masked()
        request.log.log(f"consulta {consulta_id} {body.category} {masked} → {status} "
                        f"({'charged' if charged else 'released'} {price}; fontes {[s['plugin'] for s in sources]})")
        row = {
            "user_id": user_id, "category": body.category, "status": status, "input_masked": json.dumps(masked),
            "document_hash": document_hash(lookup, key), "purpose": body.purpose, "legal_basis": body.legal_basis,
            "cost": price if charged else 0, "plugin_id": route.plugin_id,
            "result": json.dumps(result.data, ensure_ascii=False) if result.data is not None else None,
            "sources": render.sources_json(sources),
            "error": json.dumps(render.error_of(result)) if render.error_of(result) else None,
            "idempotency_key": idempotency_key, "completed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            **(terms.row_fields() if terms else {}),
        }

        def stage(unit: UnitOfWork) -> None:
            if charged:
                stage_settle(unit, hold)
            else:
                stage_release(unit, hold, reason=f"consulta {status}: {(render.error_of(result) or {}).get('code')}")

        def finish(unit: UnitOfWork, audit_id: str, _: None) -> None:
            unit.create(database_id, TABLE, consulta_id, {**row, "audit_id": audit_id})

        def answer(audit_id: str, _: None) -> tuple[int, Any]:
            return 201, {"consulta_id": consulta_id}  # a replay renders the stored row

        details = _audit_details(body, lookup, row, result, price, started)
        event = Event("consulta.completed" if status != "failed" else "consulta.failed", tenant_id, {
            "consulta_id": consulta_id, "category": body.category, "status": status, "cost": row["cost"],
            "user_id": user_id, "plugin_id": route.plugin_id, "sources": [s["plugin"] for s in sources],
        })
        audit_id, _ = idempotency.commit_idempotent(
            tables, AuditTrail.tenant(database_id), Actor.of(identity), claimed, action="consultas.create",
            resource=("consulta", consulta_id), details=details, stage=stage, events=[event],
            answer=answer, finish=finish)
    except BaseException as error:
        if member:
            member.give_back(tables)
        request.log.exception(f"consulta {consulta_id}: failed after reserving; releasing the reservation", error)
        try:
            release_now(tables, hold, reason="the consulta did not finish")
        except AppwriteException as undo_error:
            request.log.exception(f"consulta {consulta_id}: release failed too (hold stays held)", undo_error)
        idempotency.release(tables, claimed)
        raise
    if member and not charged:  # uncharged: the month's spend gets the price back (best effort, logged)
        try:
            member.give_back(tables)
        except AppwriteException as error:
            request.log.exception(f"consulta {consulta_id}: monthly spend not given back", error)
    # Rendered exactly as a replay renders the stored row, so the first answer and a replay match.
    public = render.to_public(SimpleNamespace(id=consulta_id, data={**row, "audit_id": audit_id}, createdat=None))
    public.pop("created_at")
    return created(public)


def _audit_details(body: ConsultaBody, lookup: ConsultaInput, row: dict[str, Any], result: PluginResult,
                   price: int, started: datetime) -> dict[str, Any]:
    """LGPD record of processing (art. 37): who, what (hashed/masked), why, from where, at what cost."""
    return {
        "category": body.category, "status": row["status"], "price": price, "cost": row["cost"],
        "purpose": body.purpose, "legal_basis": body.legal_basis, "input": lookup.masked(),
        "subject_doc_hash": row["document_hash"], "plugin_id": row["plugin_id"],
        "sources": [f"{s.plugin}:{s.status.value}" for s in result.sources],
        "billable": result.billable, "provider_cost": str(result.provider_cost),
        "requested_at": started.isoformat(timespec="milliseconds"),
    }
