"""``POST /grants`` {user_id, credits, reason}: an owner/admin (or platform admin) gives credits.

Atomic increment of the member's balance + ``grant`` ledger row + audit entry + ``credits.granted``
event, in one transaction. Send ``idempotency-key`` to make a retry safe (the first answer comes back,
nothing is credited twice); without one the execution id is the key, so each request is a new grant.
"""

from __future__ import annotations

from typing import Any

from appwrite.id import ID
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from bigtech import accounts, appwrite_access, idempotency, sweeps
from bigtech.audit import AuditTrail
from bigtech.audited import Actor, Event
from bigtech.credits import SERVICE_WALLET, ensure_wallet, grants
from bigtech.errors import NotFound
from bigtech.http import Request, created
from bigtech.identity import current
from bigtech.pagination import ID_PATTERN
from bigtech.uow import UnitOfWork

MAX_GRANT = 100_000_000


class GrantBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    user_id: str = Field(pattern=ID_PATTERN)  # a member, or SERVICE_WALLET (mercado-atacado)
    credits: StrictInt = Field(ge=1, le=MAX_GRANT)  # "100", true, 1.0 → 422
    reason: str = Field(min_length=3, max_length=512)


def create(request: Request) -> Any:
    body = request.model(GrantBody)
    identity = current(request)
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    tenant_id, database_id = identity.tenant_id or "", identity.database_id
    if body.user_id != SERVICE_WALLET and accounts.find_member(Teams(client), tenant_id, body.user_id) is None:
        raise NotFound("That user is not a member of this tenant.", code="member_not_found")

    scope = f"grants:{identity.user_id}"
    key = idempotency.read_key(request) or f"execution:{request.execution_id or ID.unique()}"
    # A grant that dies after its claim leaves the key "in progress": the reaper must come (one call; grants are rare).
    sweeps.mark(tables, database_id, sweeps.CREDITS)
    claimed = idempotency.claim(tables, database_id, scope, key, idempotency.request_hash(body.model_dump()))
    if isinstance(claimed, idempotency.Stored):
        return claimed.response()
    grant_id = idempotency.derived_id("g", scope, key)
    try:
        ensure_wallet(tables, database_id, body.user_id)

        def stage(unit: UnitOfWork) -> str:
            return grants.stage_credit(unit, database_id, body.user_id, body.credits, f"grant:{grant_id}",
                                       kind="grant", reference_type="grant", reference_id=grant_id,
                                       actor=identity.user_id, reason=body.reason)

        def answer(audit_id: str, entry_id: str) -> tuple[int, Any]:
            return 201, {"grant": {"id": grant_id, "user_id": body.user_id, "credits": body.credits,
                                   "reason": body.reason, "ledger_entry_id": entry_id}, "audit_id": audit_id}

        details = {"user_id": body.user_id, "credits": body.credits, "reason": body.reason, "grant_id": grant_id}
        event = Event("credits.granted", tenant_id, {"user_id": body.user_id, "credits": body.credits,
                                                     "grant_id": grant_id, "reason": body.reason})
        audit_id, entry_id = idempotency.commit_idempotent(
            tables, AuditTrail.tenant(database_id), Actor.of(identity), claimed, action="grants.create",
            resource=("grant", grant_id), details=details, stage=stage, events=[event], answer=answer)
    except BaseException:
        idempotency.release(tables, claimed)
        raise
    status, response = answer(audit_id, entry_id)
    return created(response) if status == 201 else response
