"""Per-key rate limits: requests per minute and per day, exact under concurrency.

Same mechanism as the members' limiter (``bigtech.ratelimit``): one row per key and window in the
tenant's ``rate_limits`` table, moved only by ``increment_row_column(..., max=limit)``. Appwrite refuses,
under the row's lock, the increment that would pass the limit, so N concurrent requests on a limit L let
exactly min(N, L) through. The minute window is counted first; a request it refuses never touches the
day's count. Steady state: one call per window (two per request); the first request of a window adds
the row's creation.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException

from bigtech import appwrite_access
from bigtech.errors import TooManyRequests

TABLE = "rate_limits"
LIMIT_EXCEEDED = "column_limit_exceeded"
WINDOWS = (("minute", 60), ("day", 86_400))


@dataclass(frozen=True)
class Count:
    window: str
    limit: int
    count: int
    reset: int

    @property
    def allowed(self) -> bool:
        return self.count <= self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)


def row_id(name: str, number: int) -> str:
    return f"{hashlib.sha256(name.encode('utf-8')).hexdigest()[:24]}-{number}"


def count(tables: Any, database_id: str, key_id: str, window: str, seconds: int, limit: int, now: float) -> Count:
    """Count one request of ``key_id`` in the current ``window`` against ``limit``."""
    number = int(now // seconds)
    reset = max(1, math.ceil((number + 1) * seconds - now))
    name = f"apikey-{window}:{key_id}"
    rid = row_id(name, number)
    for _attempt in range(3):
        try:
            row = tables.increment_row_column(database_id, TABLE, rid, "count", 1, max=limit)
            return Count(window, limit, int(row.data.get("count") or 0), reset)
        except AppwriteException as error:
            if error.code == 400 and error.type == LIMIT_EXCEEDED:
                return Count(window, limit, limit + 1, reset)
            if error.code != 404:
                raise
        started = datetime.fromtimestamp(number * seconds, UTC).isoformat()
        try:
            tables.create_row(database_id, TABLE, rid, {"key": name, "window_start": started, "count": 1})
            return Count(window, limit, 1, reset)
        except AppwriteException as error:
            if not appwrite_access.is_unique_violation(error):
                raise
    raise RuntimeError("rate limit row kept disappearing")


def headers(counts: list[Count]) -> dict[str, str]:
    """IETF RateLimit headers for the tightest window (the one with the fewest requests left)."""
    tightest = min(counts, key=lambda c: (c.remaining, c.reset))
    return {"ratelimit-limit": str(tightest.limit), "ratelimit-remaining": str(tightest.remaining),
            "ratelimit-reset": str(tightest.reset),
            "ratelimit-policy": ", ".join(f"{c.limit};w={s}" for c, (_, s) in zip(counts, WINDOWS, strict=False))}


def enforce(tables: Any, database_id: str, key: Any, response_headers: dict[str, str], now: float) -> Count:
    """Count the request in each window; 429 ``rate_limited`` (with ``Retry-After``) at the first refusal.
    Returns the minute window's count (its ``count == 1`` marks the first request of a minute)."""
    counts: list[Count] = []
    limits = {"minute": key.rate_limit_per_minute, "day": key.rate_limit_per_day}
    for window, seconds in WINDOWS:
        counted = count(tables, database_id, key.id, window, seconds, limits[window], now)
        counts.append(counted)
        response_headers.update(headers(counts))
        if not counted.allowed:
            raise TooManyRequests(
                f"More than {counted.limit} requests per {window} for this API key; try again in {counted.reset} s.",
                retry_after=counted.reset,
                details={"window": window, "limit": counted.limit, "reset_seconds": counted.reset})
    return counts[0]


def month_number(now: datetime) -> int:
    return now.year * 12 + now.month - 1


def tally_month(tables: Any, database_id: str, key_id: str, now: datetime) -> int:
    """Count one consulta of ``key_id`` this UTC month (atomic, no limit); returns the count, this one included."""
    number = month_number(now)
    name = f"apikey-month:{key_id}"
    rid = row_id(name, number)
    for _attempt in range(3):
        try:
            return int(tables.increment_row_column(database_id, TABLE, rid, "count", 1).data.get("count") or 0)
        except AppwriteException as error:
            if error.code != 404:
                raise
        started = datetime(now.year, now.month, 1, tzinfo=UTC).isoformat()
        try:
            tables.create_row(database_id, TABLE, rid, {"key": name, "window_start": started, "count": 1})
            return 1
        except AppwriteException as error:
            if not appwrite_access.is_unique_violation(error):
                raise
    raise RuntimeError("volume row kept disappearing")
