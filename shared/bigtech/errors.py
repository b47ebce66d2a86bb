"""The one error hierarchy of Bigtech's HTTP API.

Handlers raise these; ``bigtech.http`` turns any of them into
``{"error": {"code", "message", "details"}}`` with the matching status, so a bad request is always a
clear 4xx and never an unhandled 500. ``details`` is always a list of ``{"field"?, "message", "value"?}``
(docs/api-style.md): ``normalise_details`` turns whatever a raiser gave (nothing, a mapping of facts
such as ``{"balance": 0, "price": 300}``) into that list, so no client ever meets ``null`` or an object::

    BigtechError                 (status, code, message, details)
     ├── BadRequest              400 bad_request      (malformed input: invalid_json, ...)
     ├── Unauthorized            401 unauthorized     (no or invalid caller identity)
     ├── PaymentRequired         402 insufficient_credits
     ├── Forbidden               403 forbidden        (identity known, action not allowed)
     ├── NotFound                404 not_found        (route_not_found, ...)
     ├── MethodNotAllowed        405 method_not_allowed
     ├── Conflict                409 conflict         (duplicates, idempotency clashes)
     ├── PayloadTooLarge         413 payload_too_large (a body over the documented limit)
     ├── Unprocessable           422 validation_failed (field errors: details=[{field, message}])
     ├── TooManyRequests         429 rate_limited
     ├── UpstreamError           502 upstream_error   (Appwrite failed a call the function made itself)
     └── UpstreamIncompatible    502 upstream_incompatible (Appwrite answered something the SDK cannot parse)

``code`` is a stable, machine-readable string (clients switch on it); ``message`` is for humans and
may change. Each subclass has a default code and message so ``raise NotFound()`` is enough, and a
more specific code can be given: ``raise NotFound("Order not found.", code="order_not_found")``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class BigtechError(Exception):
    """Base of every error that maps to an HTTP response. Not raised directly: pick a subclass."""

    status: ClassVar[int] = 500
    default_code: ClassVar[str] = "internal_error"
    default_message: ClassVar[str] = "Internal error."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None) -> None:
        self.message = message or self.default_message
        self.code = code or self.default_code
        self.details = details
        super().__init__(self.message)

    def to_body(self) -> dict[str, Any]:
        """The JSON body every Bigtech error response carries."""
        return {"error": {"code": self.code, "message": self.message, "details": normalise_details(self.details)}}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code!r}, message={self.message!r})"


def _detail(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        entry: dict[str, Any] = {}
        if item.get("field") is not None:
            entry["field"] = str(item["field"])
        entry["message"] = str(item.get("message") or "Invalid value.")
        if "value" in item:
            entry["value"] = item["value"]
        return entry
    return {"message": str(item)}


def normalise_details(details: Any) -> list[dict[str, Any]]:
    """``details`` as the style guide's list: ``None`` → ``[]``; a list → each item ``{field?, message,
    value?}``; a mapping of facts → one item per key, ``{"field": key, "message": "key: value", "value": value}``
    (the value stays machine-readable: a 402's ``balance`` is still a number)."""
    if details is None:
        return []
    if isinstance(details, dict):
        return [{"field": str(key), "message": f"{key}: {value}", "value": value} for key, value in details.items()]
    if isinstance(details, (list, tuple)):
        return [_detail(item) for item in details]
    return [{"message": str(details)}]


def detail_values(body: dict[str, Any]) -> dict[str, Any]:
    """``{field: value}`` of an error body's details (how a client reads a 402's balance and price)."""
    return {item["field"]: item.get("value") for item in body["error"]["details"] if "field" in item}


class BadRequest(BigtechError):
    status = 400
    default_code = "bad_request"
    default_message = "The request is malformed."


class Unauthorized(BigtechError):
    status = 401
    default_code = "unauthorized"
    default_message = "Authentication is required."


class PaymentRequired(BigtechError):
    """Not enough credits: the one 4xx a paying client must handle by buying more."""

    status = 402
    default_code = "insufficient_credits"
    default_message = "Not enough credits."


class Forbidden(BigtechError):
    status = 403
    default_code = "forbidden"
    default_message = "You are not allowed to do this."


class NotFound(BigtechError):
    status = 404
    default_code = "not_found"
    default_message = "Not found."


class MethodNotAllowed(BigtechError):
    """The path exists but not with this method; ``allowed`` feeds the ``allow`` response header."""

    status = 405
    default_code = "method_not_allowed"
    default_message = "Method not allowed."

    def __init__(self, message: str | None = None, *, allowed: list[str] | None = None, **kwargs: Any) -> None:
        self.allowed = sorted(allowed or [])
        super().__init__(message, **kwargs)


class Conflict(BigtechError):
    status = 409
    default_code = "conflict"
    default_message = "The request conflicts with the current state."


class PayloadTooLarge(BigtechError):
    status = 413
    default_code = "payload_too_large"
    default_message = "The request body is too large."


class Unprocessable(BigtechError):
    """Well-formed input that fails validation; ``details`` lists ``{"field", "message"}`` per problem."""

    status = 422
    default_code = "validation_failed"
    default_message = "The request has invalid fields."

    @classmethod
    def field(cls, field: str, message: str, *, code: str | None = None) -> Unprocessable:
        """Shortcut for the common single-field error."""
        return cls(f"{field}: {message}", code=code, details=[{"field": field, "message": message}])


class TooManyRequests(BigtechError):
    status = 429
    default_code = "rate_limited"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int | None = None,
                 headers: dict[str, str] | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        self.headers = dict(headers or {})  # e.g. the RateLimit-* headers of the refused request
        super().__init__(message, **kwargs)


class UpstreamIncompatible(BigtechError):
    """Appwrite answered, but not in a shape the SDK (and so Bigtech) understands: typically a server
    older than the minimum supported version. Never a 4xx: the caller did nothing wrong."""

    status = 502
    default_code = "upstream_incompatible"
    default_message = "The Appwrite server answered in a format this version of Bigtech cannot read."


class UpstreamError(BigtechError):
    """Appwrite refused or failed a call the function made on its own behalf (a 5xx, or a 4xx that is
    not the caller's fault, such as a missing scope): the caller gets a 502, not a 500 or a 4xx."""

    status = 502
    default_code = "upstream_error"
    default_message = "A platform service did not answer as expected."


__all__ = [
    "BadRequest",
    "BigtechError",
    "Conflict",
    "Forbidden",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PaymentRequired",
    "TooManyRequests",
    "Unauthorized",
    "Unprocessable",
    "UpstreamError",
    "UpstreamIncompatible",
    "detail_values",
    "normalise_details",
]
