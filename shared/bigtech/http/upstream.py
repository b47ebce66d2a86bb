"""Appwrite failures no handler dealt with, as the caller should see them (never a 5xx for their input,
never a 4xx for ours).

- A pydantic ``ValidationError`` raised inside the SDK means Appwrite answered in a shape SDK 27's
  models cannot read (e.g. Appwrite 1.8, whose ``$sequence`` is an integer): 502
  ``upstream_incompatible``. Told apart from a request-validation error by where it was raised.
- An ``AppwriteException`` wrapping such a ``ValidationError`` (``Service._parse_response``), or whose
  status is 2xx (the body was not JSON), means the same: also ``upstream_incompatible``.
- 404 (a missing row, user, team…) / 409 / 429 from Appwrite keep their meaning
  (``appwrite_access.translate``); a 404 for a missing database, table or column is a deployment
  problem → 502 ``upstream_error``.
- Any other 4xx from Appwrite means the call a function built was refused: either hostile input
  reached it (an id or value Appwrite rejects) → 400 ``invalid_request``; or the function lacks a
  scope (401/403) → 502 ``upstream_error``. 5xx and network errors → 502 ``upstream_error``.
"""

from __future__ import annotations

from types import TracebackType

from pydantic import ValidationError

from ..errors import BadRequest, BigtechError, Conflict, NotFound, TooManyRequests, UpstreamError, UpstreamIncompatible

SDK_PACKAGE = "appwrite"
PARSE_FAILURE = "Unable to parse response"  # Service._parse_response's AppwriteException message
# 404s that mean "the thing the caller named does not exist"; any other 404 (database_not_found,
# table_not_found, column_not_found…) means the deployment is incomplete: a 502, not the caller's 404.
MISSING_RESOURCE_TYPES = frozenset({
    "row_not_found", "document_not_found", "user_not_found", "team_not_found", "membership_not_found",
    "execution_not_found", "general_route_not_found",
})


def _frames(traceback: TracebackType | None):
    while traceback is not None:
        yield traceback.tb_frame
        traceback = traceback.tb_next


def from_sdk(error: BaseException) -> bool:
    """Whether ``error`` was raised while the Appwrite SDK was parsing a response."""
    for frame in _frames(error.__traceback__):
        module = str(frame.f_globals.get("__name__", ""))
        if module == SDK_PACKAGE or module.startswith(SDK_PACKAGE + "."):
            return True
    return False


def incompatible(error: ValidationError) -> UpstreamIncompatible:
    return UpstreamIncompatible(details={"model": error.title, "errors": error.error_count()})


def translate(error: BaseException) -> BigtechError | None:
    """The Bigtech error for an escaped SDK error, or ``None`` when ``error`` is not one (a bug: 500)."""
    try:
        from appwrite.exception import AppwriteException
    except ImportError:  # pragma: no cover - every function vendors the SDK
        return None
    if not isinstance(error, AppwriteException):
        return None
    code = error.code if isinstance(error.code, int) else 0
    kind = str(error.type or "")
    if isinstance(error.__cause__, ValidationError) or str(error.message or "").startswith(PARSE_FAILURE):
        return UpstreamIncompatible()  # the SDK's own wrapper around a model it could not fill
    if 200 <= code < 300:
        return UpstreamIncompatible(details={"status": code})
    if code == 404:
        if kind in MISSING_RESOURCE_TYPES or not kind:
            return NotFound()
        return UpstreamError(details={"status": code, "type": kind})  # a missing database/table: deployment
    if code == 409:
        return Conflict()
    if code == 429:
        return TooManyRequests("Appwrite is rate limiting this project; try again shortly.", retry_after=60)
    if code in (401, 403) or code >= 500 or code == 0:
        return UpstreamError(details={"status": code or None, "type": kind or None})
    if 400 <= code < 500:
        return BadRequest("The request names something that cannot exist or has an invalid value.",
                          code="invalid_request", details={"upstream_type": kind or None})
    return UpstreamError(details={"status": code, "type": kind or None})


__all__ = ["from_sdk", "incompatible", "translate"]
