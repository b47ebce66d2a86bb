"""Idempotent requests: an ``idempotency-key`` sent again returns the first answer and changes nothing.

Each key is a row of the tenant's ``idempotency`` table, keyed by ``(scope, key)`` (the scope names
the route and the caller, so two users' keys never meet) and holding a hash of the request:

1. ``claim`` creates the row *before* any effect. Appwrite refuses a second row with the same id, so
   of two concurrent requests with one key exactly one gets the claim; the other is told the first
   is still running (409 ``idempotency_in_progress``) or, once it finished, gets its stored answer.
   A request whose first effect is a transaction may instead stage the claim into it (``stage_claim``,
   one call fewer: a consulta's reservation) and, when that transaction or anything before it is
   refused, ask ``held_by_another`` whether the key was the reason;
2. the handler does its work and stages ``stage_complete`` (status + answer) in the **same
   transaction** as its effects, so an answer is stored exactly when the effects are;
3. a request that fails before its effects calls ``release`` so the key can be used again; a claim
   left "in progress" by an execution that died is deleted by the reaper after ten minutes
   (``bigtech.credits.reaper``), and the same key then runs the request again.

Same key with a different body → 422 ``idempotency_key_reused`` (the client has a bug; replaying the
first answer would hide it). Keys follow the IETF ``Idempotency-Key`` draft: opaque, at most 128
printable ASCII characters.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from . import uow
from .appwrite_access import is_unique_violation
from .audit.writer import AuditTrail, stage_entry
from .audited import Actor, Event
from .errors import Conflict, Unprocessable
from .http import Response, json_response
from .outbox_writer import stage_event
from .uow import UnitOfWork

T = TypeVar("T")

TABLE = "idempotency"
HEADER = "idempotency-key"
REPLAY_HEADER = "idempotent-replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


@dataclass(frozen=True)
class Stored:
    """The answer a completed request gave."""

    status: int
    body: Any

    def response(self) -> Response:
        return json_response(self.body, self.status, {REPLAY_HEADER: "true"})


@dataclass(frozen=True)
class Claim:
    """This request owns ``(scope, key)`` until it completes or releases it."""

    database_id: str
    row_id: str
    scope: str
    key: str
    created_at: str = ""  # the claim row's $createdAt: tells this claim from one made after a reaper cleared it

    def resource_id(self, prefix: str) -> str:
        """A stable id for what this claim creates. It names the claim, not only the key: once the reaper
        (``bigtech.credits.reaper``) clears a claim stuck by a dead execution, the retry's new claim gets a
        new id, so it does not collide with what the dead attempt left (its released hold)."""
        return derived_id(prefix, self.scope, f"{self.key}\n{self.created_at}")


def read_key(request: Any) -> str | None:
    """The request's ``idempotency-key`` header (``None`` if absent); a malformed one → 422."""
    value = request.header(HEADER)
    if value is None or value == "":
        return None
    if not _KEY.match(value):
        raise Unprocessable.field(HEADER, "must be 1 to 128 printable ASCII characters without spaces",
                                  code="invalid_idempotency_key")
    return value


def request_hash(payload: Any) -> str:
    """Hash of what the request asks for (canonical JSON), to tell a retry from a different request."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def row_id(scope: str, key: str) -> str:
    """Deterministic row id (Appwrite ids: ≤ 36 characters), so duplicates collide on the id itself."""
    return "i" + hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()[:35]


def derived_id(prefix: str, scope: str, key: str, length: int = 20) -> str:
    """A stable id for the resource a keyed request creates (a retry names the same resource)."""
    return prefix + hashlib.sha256(f"{prefix}\n{scope}\n{key}".encode()).hexdigest()[: length - len(prefix)]


def _stored(data: dict[str, Any]) -> Stored | None:
    if data.get("status_code") in (None, 0):
        return None
    try:
        body = json.loads(data.get("response") or "null")
    except ValueError:
        body = None
    return Stored(int(data["status_code"]), body)


def claim(tables: TablesDB, database_id: str, scope: str, key: str, fingerprint: str) -> Claim | Stored:
    """Take ``(scope, key)`` for this request, or return the first request's stored answer.

    Raises 422 ``idempotency_key_reused`` (different request, same key) or 409
    ``idempotency_in_progress`` (the first request has not finished).
    """
    rid = row_id(scope, key)
    try:
        row = tables.create_row(database_id, TABLE, rid, {"scope": scope, "key": key, "request_hash": fingerprint})
        return Claim(database_id, rid, scope, key, row.createdat or "")
    except AppwriteException as error:
        if not is_unique_violation(error):
            raise
    stored = held_by_another(tables, Claim(database_id, rid, scope, key), fingerprint)
    if stored is None:  # released between our create and our read: the caller may retry
        raise Conflict("This idempotency key is being processed; retry.", code="idempotency_in_progress")
    return stored


def unwritten_claim(database_id: str, scope: str, key: str, nonce: str) -> Claim:
    """A claim to be created by the request's first transaction (``stage_claim``) rather than on its own:
    one call fewer. ``nonce`` (fresh per attempt) stands for the row's ``$createdAt`` in ``resource_id``."""
    return Claim(database_id, row_id(scope, key), scope, key, nonce)


def stage_claim(unit: UnitOfWork, claimed: Claim, fingerprint: str) -> None:
    """Create the claim in the transaction that makes the request's first effect (a consulta's reservation):
    the key is taken exactly when that effect is made, and a duplicate fails the whole transaction."""
    unit.create(claimed.database_id, TABLE, claimed.row_id,
                {"scope": claimed.scope, "key": claimed.key, "request_hash": fingerprint})


def held_by_another(tables: TablesDB, claimed: Claim, fingerprint: str) -> Stored | None:
    """After this request could not take ``claimed``: the first request's stored answer; ``None`` if no
    request holds the key (any more). 422 ``idempotency_key_reused`` for another request's key, 409
    ``idempotency_in_progress`` while the first request runs."""
    try:
        data = tables.get_row(claimed.database_id, TABLE, claimed.row_id).data
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise
    if data.get("request_hash") != fingerprint:
        raise Unprocessable.field(HEADER, "was already used for a different request", code="idempotency_key_reused")
    stored = _stored(data)
    if stored is None:
        raise Conflict("A request with this idempotency key is still being processed.", code="idempotency_in_progress")
    return stored


def stage_complete(unit: UnitOfWork, claimed: Claim, status: int, body: Any) -> None:
    """Store the answer in the transaction that makes the request's effects."""
    unit.update(claimed.database_id, TABLE, claimed.row_id,
                {"status_code": status, "response": json.dumps(body, separators=(",", ":"), default=str)})


def complete(tables: TablesDB, claimed: Claim, status: int, body: Any) -> None:
    """Store the answer on its own (for requests whose effects were committed separately)."""
    tables.update_row(claimed.database_id, TABLE, claimed.row_id,
                      {"status_code": status, "response": json.dumps(body, separators=(",", ":"), default=str)})


def commit_idempotent(tables: TablesDB, trail: AuditTrail, actor: Actor, claimed: Claim | None, *, action: str,
                      resource: tuple[str, str], details: Mapping[str, Any], stage: Callable[[UnitOfWork], T],
                      events: Sequence[Event], answer: Callable[[str, T], tuple[int, Any]],
                      finish: Callable[[UnitOfWork, str, T], None] | None = None) -> tuple[str, T]:
    """``bigtech.audited.commit_change`` plus the stored answer, in one transaction.

    The answer usually names the audit entry, whose id is only known once the entry is staged, so
    ``answer(audit_id, stage's result)`` is called after it and its ``(status, body)`` is staged into
    the claim; ``finish(unit, audit_id, result)`` may stage more that must name the entry (a row with
    an ``audit_id`` column). Returns ``(audit_id, stage's result)``. Retried on concurrency conflicts.
    """
    return uow.run(tables, idempotent_build(tables, trail, actor, claimed, action=action, resource=resource,
                                            details=details, stage=stage, events=events, answer=answer,
                                            finish=finish))


def idempotent_build(tables: Any, trail: AuditTrail, actor: Actor, claimed: Claim | None, *, action: str,
                     resource: tuple[str, str], details: Mapping[str, Any], stage: Callable[[UnitOfWork], T],
                     events: Sequence[Event], answer: Callable[[str, T], tuple[int, Any]],
                     finish: Callable[[UnitOfWork, str, T], None] | None = None, deferred_seal: bool = False,
                     ) -> Callable[[UnitOfWork], tuple[str, T]]:
    """The ``build`` that ``commit_idempotent`` commits (for a caller that runs the unit of work itself,
    e.g. a service over an injected unit of work). ``tables`` is what seals the audit entry afterwards;
    ``deferred_seal``: the entry is left for a later seal instead (``bigtech.audit.writer.stage_entry``)."""

    def build(unit: UnitOfWork) -> tuple[str, T]:
        result = stage(unit)
        entry = stage_entry(tables, unit, trail, action=action, actor=actor.user_id, actor_role=actor.role,
                            resource_type=resource[0], resource_id=resource[1], details=actor.stamp(details),
                            ip=actor.ip, deferred=deferred_seal)
        audit_id = entry.id
        if finish is not None:
            finish(unit, audit_id, result)
        for event in events:
            stage_event(unit, event.type, event.tenant_id, {**event.data, "audit_id": audit_id}, actor=actor.user_id)
        if claimed is not None:
            status, body = answer(audit_id, result)
            stage_complete(unit, claimed, status, body)
        return audit_id, result

    return build


def release(tables: TablesDB, claimed: Claim | None) -> None:
    """Give the key back (the request failed before any effect). Best effort: never masks the failure."""
    if claimed is None:
        return
    with contextlib.suppress(AppwriteException):
        tables.delete_row(claimed.database_id, TABLE, claimed.row_id)


__all__ = [
    "HEADER",
    "REPLAY_HEADER",
    "Claim",
    "Stored",
    "claim",
    "commit_idempotent",
    "complete",
    "derived_id",
    "held_by_another",
    "idempotent_build",
    "read_key",
    "release",
    "request_hash",
    "row_id",
    "stage_claim",
    "stage_complete",
    "unwritten_claim",
]
