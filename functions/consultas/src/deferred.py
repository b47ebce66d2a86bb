"""Async consultas, the accepting half: ``POST /`` with ``"async": true`` or ``prefer: respond-async``.

1. The request is validated exactly like a synchronous one (422s before anything is accepted).
2. Its idempotency key (the client's, else ``async:<fresh id>``) is **claimed** here, with the same scope and
   fingerprint the synchronous flow uses: of concurrent or repeated posts with one key, exactly one is
   accepted. The others get the same pending consulta (202), or its final answer once it finished
   (the stored replay), or 409 ``idempotency_in_progress`` in the instant before the pending row exists.
   A ``credits`` marker (``bigtech.sweeps``) is written just before the claim, so billing's schedule visits
   the tenant once the consulta could be abandoned (``bigtech.credits.abandoned``: a pending consulta whose
   execution died, or never ran, is ended ``failed`` / ``consulta_abandoned``).
3. The consulta row is written ``pending`` under the claim's resource id (the id the flow gives it), and
   an **async** execution of this function's ``POST /internal/run`` (CORE's token: nobody else may start
   one) carries the job. Never a synchronous self-execution: an Appwrite instance serves one request at a
   time. Answer 202 ``{"consulta": {"id", "status": "pending", …}}``.
4. ``worker.run`` runs ``service.run_consulta`` under that claim and the row moves to its final state
   (``succeeded``, ``not_found``, ``failed``); a refusal (402, 409…) marks it ``failed`` with the error.
   ``GET /{id}`` shows the progress.

Appwrite calls on accept: the marker (1), the claim (1), the pending row (1), the execution (1).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.functions import Functions
from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access, idempotency, sweeps
from bigtech.errors import Conflict, Unprocessable
from bigtech.http import Request, Response
from bigtech.plugins import core_calls

from . import render
from .models import PREFER_ASYNC
from .service import ConsultaCommand

FUNCTION_ID = "consultas"
RUN_PATH = "/internal/run"
TABLE = "consultas"


class Job(BaseModel):
    """What the async execution needs to run the consulta as the member who asked for it."""

    model_config = ConfigDict(extra="forbid")

    consulta_id: str = Field(max_length=36)
    tenant_id: str = Field(max_length=64)
    database_id: str = Field(max_length=64)
    user_id: str = Field(max_length=64)
    role: str | None = None
    actor_name: str | None = None
    ip: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)
    body: dict[str, Any]
    idempotency_key: str = Field(max_length=160)
    client_key: bool  # whether the key is the client's (stored on the row) or ``async:<id>``
    claimed_at: str = ""
    fingerprint: str
    document_hash: str | None = None


def pending_row(command: ConsultaCommand, client_key: bool) -> dict[str, Any]:
    body = command.body
    return {"user_id": command.user_id, "category": body.category, "status": "pending",
            "input_masked": json.dumps(command.lookup.masked()), "document_hash": command.document_hash,
            "purpose": body.purpose, "legal_basis": body.legal_basis, "cost": 0,
            "idempotency_key": command.idempotency_key if client_key else None}


def _accepted(consulta_id: str, row: dict[str, Any], created_at: str | None = None) -> Response:
    public = render.to_public(_Row(consulta_id, row, created_at), with_result=False)
    # RFC 7240: say the preference was honoured (also when it was asked with ``"async": true``)
    return Response(202, {"consulta": public}, {"location": f"/{consulta_id}", "preference-applied": PREFER_ASYNC})


class _Row:
    def __init__(self, row_id: str, data: dict[str, Any], createdat: str | None) -> None:
        self.id, self.data, self.createdat = row_id, data, createdat


def _pending_of(tables: Any, command: ConsultaCommand, key: str) -> Response | None:
    """The consulta a concurrent accept with the same key made (202 again), if it exists yet."""
    scope = command.scope
    try:
        claim_row = tables.get_row(command.database_id, idempotency.TABLE, idempotency.row_id(scope, key))
        claimed = idempotency.Claim(command.database_id, claim_row.id, scope, key, claim_row.createdat or "")
        row = tables.get_row(command.database_id, TABLE, claimed.resource_id("c"))
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise
    return _accepted(row.id, row.data, row.createdat)


def accept(request: Request, tables: Any, command: ConsultaCommand,
           replay: Callable[[Any, str, idempotency.Stored], Response]) -> Response:
    if command.terms is not None:  # an API key (mercado-atacado) has its own async: callback_url
        raise Unprocessable.field("async", "not available with an API key; send callback_url instead",
                                  code="async_not_supported")
    client_key = command.idempotency_key is not None
    key = command.idempotency_key or f"async:{ID.unique()}"
    # before the claim: whatever dies after it (this accept, the execution, or Appwrite never running it),
    # the tenant is visited and the consulta ended (a replay's marker costs that visit and nothing more)
    sweeps.mark(tables, command.database_id, sweeps.CREDITS)
    try:
        got = idempotency.claim(tables, command.database_id, command.scope, key, command.fingerprint)
    except Conflict as busy:
        if busy.code != "idempotency_in_progress":
            raise
        pending = _pending_of(tables, command, key)
        if pending is None:
            raise
        return pending
    if isinstance(got, idempotency.Stored):
        return replay(tables, command.database_id, got)
    consulta_id = got.resource_id("c")
    row = pending_row(command, client_key)
    job = Job(consulta_id=consulta_id, tenant_id=command.tenant_id, database_id=command.database_id,
              user_id=command.user_id, role=command.actor.role, actor_name=command.actor.name, ip=command.actor.ip,
              settings=command.settings, body=command.body.model_dump(by_alias=True), idempotency_key=key,
              client_key=client_key, claimed_at=got.created_at, fingerprint=command.fingerprint,
              document_hash=command.document_hash)
    payload = job.model_dump_json()
    try:
        created = tables.create_row(command.database_id, TABLE, consulta_id, row)
        Functions(appwrite_access.key_client(request)).create_execution(
            FUNCTION_ID, body=payload, xasync=True, path=RUN_PATH, method=ExecutionMethod.POST,
            headers=core_calls.headers(FUNCTION_ID, "POST", RUN_PATH, payload))
    except BaseException:
        idempotency.release(tables, got)  # nothing charged: the key may be used again
        raise
    request.log.log(f"consulta {consulta_id} {command.body.category} accepted (async)")
    return _accepted(consulta_id, row, created.createdat)


def mark_failed(tables: Any, job: Job, code: str, message: str) -> None:
    """A refused or crashed run: the pending row says why (nothing was charged: the flow released)."""
    tables.update_row(job.database_id, TABLE, job.consulta_id, {
        "status": "failed", "error": json.dumps({"code": code, "message": message[:500]}),
        "completed_at": datetime.now(UTC).isoformat(timespec="milliseconds")})


__all__ = ["FUNCTION_ID", "RUN_PATH", "Job", "accept", "mark_failed"]
