"""Async consultas, the running half: ``POST /internal/run``, executed asynchronously by ``deferred.accept``.

Only this function may start it (CORE's token over the exact body: 401 ``core_only`` otherwise). It runs
the unchanged ``service.run_consulta`` as the member who asked, under the claim ``accept`` made; the one
difference is where the consulta row lands: ``accept`` already wrote it ``pending``, so the flow's final
row *updates* it (``ResumedGateway.transact``) instead of creating it.

Against billing's sweep of abandoned consultas (``bigtech.credits.abandoned``) it takes the consulta's
*run token* first (one call): if the sweep already ended the consulta (or another execution of the same
job runs it) it does nothing at all. Its settlement stages the *end token*, as the sweep's transaction
does: of a settlement and a sweep at the same moment exactly one commits; an execution that loses finds
the consulta abandoned and leaves the hold (released by the sweep), the key (freed by it) and the row alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from appwrite.exception import AppwriteException

from bigtech import idempotency, uow
from bigtech.audited import Actor
from bigtech.credits import Hold, abandoned
from bigtech.credits.holds import settled
from bigtech.errors import BigtechError, Conflict, Unauthorized
from bigtech.http import Request
from bigtech.plugins import core_calls, validate_input
from bigtech.uow import UnitOfWork

from . import deferred
from .create import AppwriteGateway, answer
from .models import ConsultaBody
from .service import ConsultaCommand, run_consulta

T = TypeVar("T")


class ResumedGateway(AppwriteGateway):
    """The flow's gateway for a consulta ``accept`` already claimed and wrote ``pending``."""

    def __init__(self, request: Request, job: deferred.Job) -> None:
        super().__init__(request)
        self.job = job
        self.abandoned = False  # the sweep ended this consulta first: touch nothing it settled

    def release_claim(self, claimed: idempotency.Claim | None) -> idempotency.Stored | None:
        if self.abandoned:  # freed by the sweep's transaction; the row id may be a retry's claim by now
            return None
        return super().release_claim(claimed)

    def release_hold(self, hold: Hold, reason: str) -> None:
        # The sweep released the hold if it was made before the sweep's transaction; one made after it is
        # still ours to release (the release's ledger row id is the hold's: never twice either way).
        if not (self.abandoned and settled(self.tables, hold.database_id, [hold])):
            super().release_hold(hold, reason)

    def claim(self, database_id: str, scope: str, key: str, fingerprint: str) -> idempotency.Claim:
        return idempotency.Claim(database_id, idempotency.row_id(scope, key), scope, key, self.job.claimed_at)

    def transact(self, build: Callable[[UnitOfWork], T]) -> T:
        job, attempts = self.job, [0]

        def onto_pending(unit: UnitOfWork) -> T:
            attempts[0] += 1
            if attempts[0] > 1:  # a retried commit may have lost the end token to the sweep
                self._unless_abandoned()
            result = build(unit)
            for operation in unit.operations:
                if operation["action"] == "create" and operation["tableId"] == deferred.TABLE \
                        and operation["rowId"] == job.consulta_id:
                    operation["action"] = "update"  # the pending row becomes the final one
            abandoned.stage_end(unit, job.database_id, job.consulta_id, "settled")  # this or the sweep: one wins
            return result

        try:
            return uow.run(self.tables, onto_pending)
        except AppwriteException:
            # Losing to the sweep may also show as another refusal (the claim it freed: 404), so ask.
            self._unless_abandoned()
            raise

    def _unless_abandoned(self) -> None:
        if abandoned.was_abandoned(self.tables, self.job.database_id, self.job.consulta_id):
            self.abandoned = True
            raise Conflict("The consulta was ended as abandoned before it could settle.", code=abandoned.ERROR_CODE)


def command_of(job: deferred.Job) -> ConsultaCommand:
    body = ConsultaBody.model_validate(job.body)
    return ConsultaCommand(
        tenant_id=job.tenant_id, database_id=job.database_id, actor=Actor(job.user_id, job.role, job.ip,
                                                                          job.actor_name),
        settings=job.settings, body=body, lookup=validate_input(body.category, body.lookup_input()),
        idempotency_key=job.idempotency_key, fingerprint=job.fingerprint, document_hash=job.document_hash)


def run(request: Request) -> Any:
    if not core_calls.verify(request.header(core_calls.HEADER), deferred.FUNCTION_ID, request.method, request.path,
                             request.body):
        raise Unauthorized("This route is called by the consultas function only.", code="core_only")
    job = request.model(deferred.Job)
    gateway = ResumedGateway(request, job)
    if not abandoned.take_run(gateway.tables, job.database_id, job.consulta_id):
        request.log.log(f"consulta {job.consulta_id}: already taken (ended as abandoned, or run by another "
                        "execution): nothing to do")
        return {"consulta": {"id": job.consulta_id, "run": "skipped"}}
    command = command_of(job)
    try:
        outcome = run_consulta(command, gateway)
    except BigtechError as error:  # refused (402, 409…): the flow released everything; the row says why
        if gateway.abandoned:  # the sweep's transaction ended the row, released the hold and freed the key
            return {"consulta": {"id": job.consulta_id, "status": "failed", "error": {"code": error.code}}}
        deferred.mark_failed(gateway.tables, job, error.code, error.message)
        return {"consulta": {"id": job.consulta_id, "status": "failed", "error": {"code": error.code}}}
    except Exception as error:
        request.log.exception(f"consulta {job.consulta_id}: async run failed", error)
        deferred.mark_failed(gateway.tables, job, "internal_error", "The consulta could not run; try again.")
        raise
    return answer(gateway, command, outcome)


__all__ = ["ResumedGateway", "run"]
