"""Appwrite SDK access for one execution: clients built from the request, never cached.

Appwrite hands each execution a dynamic key in ``x-appwrite-key`` that expires ``timeout + 60`` s
later, and a warm worker serves many executions, so a ``Client`` kept at module level would
eventually call Appwrite with a dead key (or another execution's). Every helper here therefore takes
the execution's ``context`` (or a ``bigtech.http.Request``) and builds a fresh client.

The key client acts as an app key: Appwrite checks no row permissions for it, so callers must scope
every query by tenant themselves.
"""

from __future__ import annotations

from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from .errors import BigtechError, Conflict, NotFound, TooManyRequests
from .settings import FunctionSettings, load_settings

UNIQUE_VIOLATION_TYPES = frozenset({"row_already_exists", "row_unique_constraint_violation"})


class AppwriteAccessError(RuntimeError):
    """The function is misconfigured (no endpoint, no project, no key): a deployment problem → 500."""


def _headers(source: Any) -> dict[str, str]:
    """Lowercased request headers from an Open Runtimes context or a ``bigtech.http.Request``."""
    headers = getattr(source, "headers", None)
    if headers is None:
        headers = getattr(getattr(source, "req", None), "headers", None) or {}
    return {str(k).lower(): str(v) for k, v in headers.items()}


def _base_client(settings: FunctionSettings) -> Client:
    if not settings.endpoint or not settings.project_id:
        raise AppwriteAccessError(
            "APPWRITE_FUNCTION_API_ENDPOINT and APPWRITE_FUNCTION_PROJECT_ID (or APPWRITE_ENDPOINT and "
            "APPWRITE_PROJECT_ID) must be set."
        )
    return Client().set_endpoint(settings.endpoint).set_project(settings.project_id)


def key_client(source: Any, settings: FunctionSettings | None = None) -> Client:
    """A client with this execution's dynamic key (``x-appwrite-key``): the function's own scopes."""
    key = _headers(source).get("x-appwrite-key")
    if not key:
        raise AppwriteAccessError("The execution has no x-appwrite-key header; does the function have scopes?")
    return _base_client(settings or load_settings()).set_key(key)


def user_client(source: Any, settings: FunctionSettings | None = None) -> Client | None:
    """A client acting as the calling user (``x-appwrite-user-jwt``), or ``None`` for anonymous calls."""
    jwt = _headers(source).get("x-appwrite-user-jwt")
    if not jwt:
        return None
    return _base_client(settings or load_settings()).set_jwt(jwt)


def tables(source: Any) -> TablesDB:
    return TablesDB(key_client(source))


def users(source: Any) -> Users:
    return Users(key_client(source))


def teams(source: Any) -> Teams:
    return Teams(key_client(source))


def functions(source: Any) -> Functions:
    return Functions(key_client(source))


def is_unique_violation(error: BaseException) -> bool:
    """Duplicate id or unique index: Appwrite ≤ 1.9.6 says ``row_already_exists``, later servers
    ``row_unique_constraint_violation``; accept both."""
    return isinstance(error, AppwriteException) and error.code == 409 and error.type in UNIQUE_VIOLATION_TYPES


def is_not_found(error: BaseException) -> bool:
    return isinstance(error, AppwriteException) and error.code == 404


def translate(error: AppwriteException, *, not_found: str | None = None, conflict: str | None = None) -> Exception:
    """The Bigtech error a handler should raise for an SDK error it cannot handle itself.

    Only the statuses that mean something to our caller are translated (404, 409, 429); anything
    else is returned unchanged so it surfaces as a logged 500 rather than a misleading 4xx.
    """
    if error.code == 404:
        return NotFound(not_found or "Not found.")
    if error.code == 409:
        return Conflict(conflict or "Conflict.", code="already_exists" if is_unique_violation(error) else "conflict")
    if error.code == 429:
        return TooManyRequests()
    return error


__all__ = [
    "AppwriteAccessError",
    "BigtechError",
    "functions",
    "is_not_found",
    "is_unique_violation",
    "key_client",
    "tables",
    "teams",
    "translate",
    "user_client",
    "users",
]
