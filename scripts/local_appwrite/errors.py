"""Appwrite-shaped errors.

Every failure the local stack reports is an :class:`AppwriteError`; the HTTP layer turns it into
Appwrite's body ``{message, code, type, version}``. The ``type`` strings are Appwrite's own
(``reference/appwrite-platform.md`` §7), so SDK callers can branch on ``AppwriteException.type``
exactly as they would against a real server.
"""

from __future__ import annotations

APPWRITE_VERSION = "1.9.6"  # the Appwrite line the stack emulates (GET /health/version, error bodies)


class AppwriteError(Exception):
    """An error with an HTTP status and an Appwrite error ``type``."""

    def __init__(self, code: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.type = type_
        self.message = message

    def body(self) -> dict:
        return {"message": self.message, "code": self.code, "type": self.type, "version": APPWRITE_VERSION}


def bad_request(message: str, type_: str = "general_argument_invalid") -> AppwriteError:
    return AppwriteError(400, type_, message)


def not_found(type_: str, message: str) -> AppwriteError:
    return AppwriteError(404, type_, message)


def conflict(type_: str, message: str) -> AppwriteError:
    return AppwriteError(409, type_, message)


def unauthorized(message: str, type_: str = "general_unauthorized_scope") -> AppwriteError:
    return AppwriteError(401, type_, message)
