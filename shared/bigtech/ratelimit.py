"""Per-user rate limits that hold under concurrency (docs/security.md, "Rate limits").

What is limited: every call a signed-in member makes to a consulta route (``consultas.*``, reads
included: history is where documents are harvested) or to any mutating route, in the tenant the call
acts in. The limit is the tenant's ``settings.rate_limit_per_minute`` if set, else the platform's
``default_rate_limit_per_minute``. Calls without a user or a tenant (webhooks, events, schedules,
platform-only routes) are not counted here.

How it is counted: fixed one-minute windows (UTC minute), one row per user and window in the tenant's
``rate_limits`` table, id ``<sha256(user)[:24]>-<minute number>``. Each call is ONE atomic
``increment_row_column(..., max=limit)``: Appwrite refuses the increment that would pass the limit
(400 ``column_limit_exceeded``) under the row's lock, so N concurrent calls on a limit of L let exactly
min(N, L) through — no read-then-write anywhere. The first call of a window finds no row (404) and
creates it with ``count = 1``; if another call created it first (409), it increments instead.

Appwrite calls per counted request: 1 (the increment) in the steady state, 2 for the first call of a
window (404 + create; 3 when racing another first call). The limit itself costs nothing extra for a
mutation (identity already loaded the tenant row) and 1 read for a consulta read; the platform
default is cached per warm worker for ``DEFAULT_CACHE_SECONDS``.

Answers: every counted call carries ``RateLimit-Limit``, ``RateLimit-Remaining`` and
``RateLimit-Reset`` (seconds until the window ends); a refused one is 429 ``rate_limited`` with
``Retry-After`` as well, and nothing else runs. If the counter cannot be reached at all, the call is
let through and the failure logged (failing closed would turn a TablesDB hiccup into an outage).
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException

from . import appwrite_access, permissions, platform_settings
from .errors import TooManyRequests
from .log import FunctionLogger

TABLE = "rate_limits"
WINDOW_SECONDS = 60
LIMIT_EXCEEDED = "column_limit_exceeded"
DEFAULT_CACHE_SECONDS = 60.0

_default_cache: dict[str, tuple[float, int]] = {}
_cache_lock = threading.Lock()


def counted(action: str) -> bool:
    """Consulta routes (reads included) and every mutating route."""
    return action.startswith("consultas.") or not permissions.is_read(action)


@dataclass(frozen=True)
class Window:
    limit: int
    count: int  # calls counted in this window, this one included (limit + 1 when refused)
    reset: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    def headers(self) -> dict[str, str]:
        return {"ratelimit-limit": str(self.limit), "ratelimit-remaining": str(self.remaining),
                "ratelimit-reset": str(self.reset)}


def window_of(now: float) -> tuple[int, int]:
    """(minute number, seconds until that minute ends, at least 1)."""
    minute = int(now // WINDOW_SECONDS)
    return minute, max(1, math.ceil((minute + 1) * WINDOW_SECONDS - now))


def row_id(user_id: str, minute: int) -> str:
    """≤ 36 characters whatever the user id; the same for every call of the user in that minute."""
    return f"{hashlib.sha256(user_id.encode('utf-8')).hexdigest()[:24]}-{minute}"


def count(tables: Any, database_id: str, user_id: str, limit: int, now: float | None = None) -> Window:
    """Count one call of ``user_id`` against ``limit`` atomically; the ``Window`` says whether it passes."""
    now = time.time() if now is None else now
    minute, reset = window_of(now)
    rid = row_id(user_id, minute)
    for _attempt in range(3):
        try:
            row = tables.increment_row_column(database_id, TABLE, rid, "count", 1, max=limit)
            return Window(limit, int(row.data.get("count") or 0), reset)
        except AppwriteException as error:
            if error.code == 400 and error.type == LIMIT_EXCEEDED:
                return Window(limit, limit + 1, reset)
            if error.code != 404:
                raise
        started = datetime.fromtimestamp(minute * WINDOW_SECONDS, UTC).isoformat()
        try:
            tables.create_row(database_id, TABLE, rid, {"key": user_id, "window_start": started, "count": 1})
            return Window(limit, 1, reset)
        except AppwriteException as error:
            if not appwrite_access.is_unique_violation(error):
                raise
            # another first call of this window created the row: count on it
    raise RuntimeError("rate limit row kept disappearing")


def platform_default(tables: Any) -> int:
    """The platform's default limit, cached per warm worker for a minute (it changes rarely, and a
    change reaching every worker within a minute is what ``PATCH /settings`` documents)."""
    now = time.monotonic()
    with _cache_lock:
        cached = _default_cache.get("platform")
        if cached is not None and cached[0] > now:
            return cached[1]
    settings, _ = platform_settings.load(tables)
    value = settings.default_rate_limit_per_minute
    with _cache_lock:
        _default_cache["platform"] = (now + DEFAULT_CACHE_SECONDS, value)
    return value


def limit_for(identity: Any, tables: Any) -> int:
    tenant = identity.tenant()
    override = (tenant.settings or {}).get("rate_limit_per_minute") if tenant is not None else None
    if isinstance(override, int) and not isinstance(override, bool) and override >= 1:
        return override
    return platform_default(tables)


def enforce(request: Any, route: Any) -> None:
    """``serve`` calls this after the ``before`` hooks: a no-op unless they resolved a member in a tenant."""
    identity = getattr(request, "identity", None)
    if identity is None or not getattr(identity, "user_id", None) or not getattr(identity, "tenant_id", None):
        return
    if not counted(route.action):
        return
    try:
        tables = appwrite_access.tables(request)
        window = count(tables, identity.database_id, identity.user_id, limit_for(identity, tables))
    except (AppwriteException, RuntimeError) as error:
        FunctionLogger(request.context).exception("rate limit not counted (let through)", error)
        return
    request.response_headers.update(window.headers())
    if not window.allowed:
        raise TooManyRequests(
            f"More than {window.limit} calls in a minute; try again in {window.reset} s.",
            retry_after=window.reset, details={"limit": window.limit, "reset_seconds": window.reset},
        )


__all__ = ["TABLE", "WINDOW_SECONDS", "Window", "count", "counted", "enforce", "limit_for", "row_id", "window_of"]
