"""Who may call which route of mercado-atacado (the ``before`` hook of ``serve``).

- ``plugin.*`` (the plugin protocol: ``/manifest``, ``/enable``…): CORE's token, as every plugin;
- ``apikeys.*`` (``/keys``): a signed-in owner/admin of the tenant, resolved like every tenant route;
- ``public_api.*`` (``/v1/*``): an API key in ``x-api-key`` — never ``Authorization``, which Appwrite's
  executor uses — checked here: 401 ``api_key_missing|api_key_invalid|api_key_revoked|api_key_expired``,
  403 ``ip_not_allowed`` / ``scope_missing``, then the key's rate limits (429).

Appwrite calls per public request: 1 increment on the key's row (named by the secret's hash) that both
reads the key and counts its minute, then 1 for the day's counter (``limits``). Nothing is cached across
executions, so a revoked key is refused on its very next request.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException

from bigtech import appwrite_access
from bigtech.errors import Forbidden, Unauthorized
from bigtech.http import Request
from bigtech.http.routing import Route
from bigtech.identity import authenticate
from bigtech.log import FunctionLogger
from bigtech.plugins.service import core_only
from bigtech.schema.tenant import tenant_database_id

from . import keys, limits
from .keys import ApiKey
from .plugin import PLUGIN_ID

HEADER = "x-api-key"
# the scope each public action needs
ROUTE_SCOPES = {
    "public_api.consultas_list": "consultas:read",
    "public_api.consultas_read": "consultas:read",
    "public_api.balance_read": "balance:read",
    "public_api.usage_read": "usage:read",
}  # public_api.consultas_create needs consultas:<category>, checked once the body is read

_plugin_gate = core_only(PLUGIN_ID)


def find_key(tables: Any, raw: str, now: float) -> tuple[ApiKey, limits.Count]:
    """The key whose secret is ``raw``, with this request counted in its minute (one increment on its row)."""
    if not keys.looks_like_key(raw):
        raise Unauthorized("The API key is not valid.", code="api_key_invalid")
    digest = keys.hash_secret(raw)
    row_id = keys.row_id_for(digest)

    def claim() -> tuple[Any, limits.Count]:
        return limits.claim_minute(tables, keys.DATABASE, keys.TABLE, row_id, now)

    try:
        row, minute = claim()
    except AppwriteException as error:
        if error.code != 404:
            raise
        if not keys.adopt_legacy(tables, digest):  # neither a key nor one stored before row ids were derived
            raise Unauthorized("The API key is not valid.", code="api_key_invalid") from None
        row, minute = claim()
    if not hmac.compare_digest(row.data.get("key_hash") or "", digest):
        raise Unauthorized("The API key is not valid.", code="api_key_invalid")
    return ApiKey.from_row(row), minute


def check_key(found: ApiKey, ip: str | None, scope: str | None) -> None:
    if found.revoked:
        raise Unauthorized("This API key was revoked.", code="api_key_revoked")
    if found.expired():
        raise Unauthorized("This API key has expired.", code="api_key_expired")
    if not keys.ip_allowed(found.ip_allowlist, ip):
        raise Forbidden("This API key may not be used from this address.", code="ip_not_allowed")
    if scope is not None:
        require_scope(found, scope)


def require_scope(found: ApiKey, scope: str) -> None:
    if scope not in found.scopes:
        raise Forbidden(f"This API key lacks the {scope} scope.", code="scope_missing", details={"scope": scope})


def key_gate(request: Request, route: Route) -> None:
    raw = (request.header(HEADER) or "").strip()
    if not raw:
        raise Unauthorized("Send your API key in the x-api-key header.", code="api_key_missing")
    tables = appwrite_access.tables(request)
    now = time.time()
    found, minute = find_key(tables, raw, now)
    check_key(found, request.header("x-appwrite-client-ip"), ROUTE_SCOPES.get(route.action))
    limits.enforce(tables, tenant_database_id(found.tenant_id), found, minute, request.response_headers, now)
    request.api_key = found  # type: ignore[attr-defined]
    if minute.count == 1:  # first request of the minute: last_used_at is kept to the minute, one write a minute
        try:
            tables.update_row(keys.DATABASE, keys.TABLE, found.row_id,
                              {"last_used_at": datetime.now(UTC).isoformat(timespec="milliseconds")})
        except Exception as error:  # bookkeeping only: never refuse a request for it
            FunctionLogger(request.context).exception("last_used_at not updated", error)


def before(request: Request, route: Route) -> None:
    family = route.action.split(".", 1)[0]
    if family == "plugin":
        _plugin_gate(request, route)
    elif family == "public_api":
        key_gate(request, route)
    else:
        authenticate(request, route)


def current_key(request: Request) -> ApiKey:
    found = getattr(request, "api_key", None)
    if found is None:
        raise Unauthorized("Send your API key in the x-api-key header.", code="api_key_missing")
    return found
