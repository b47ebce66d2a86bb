"""Per-key rate limits: requests per minute and per day, exact under concurrency.

- **Minute**: counted on the key's own row (``claim_minute``), by the very call that reads the key
  (``gate``). ``minute_slots`` holds M·10⁶ + the permits left in minute M. A request takes one with
  ``decrement_row_column(1, min=M·10⁶)``: Appwrite refuses, under the row's lock, the decrement that would
  go below this minute's floor, so N concurrent requests on a limit L let exactly min(N, L) through — and
  a counter still holding an earlier minute (below the floor) is never moved by it. A refused request reads
  the row: permits spent → 429; refilled meanwhile → it takes one again; an earlier minute → it refills
  the counter to M·10⁶ + L with ``increment(M·10⁶ + L − value, max=M·10⁶ + L)``, which only the first
  refill of the minute can pass (later ones, computed from the same stale value, go past the max).
- **Day**: as the members' limiter (``bigtech.ratelimit``), a row per key and day in the tenant's
  ``rate_limits`` table moved only by ``increment_row_column(..., max=limit)``; only requests the minute let
  through are counted there.

Steady state: one call for the key and its minute, one for the day. The first request of a minute adds
three (read, refill, take again), a request over the minute's limit one (the read), the first of a day the
day row's creation.
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
SLOTS = 1_000_000  # values per minute on a key's counter: above any per-minute limit (models: ≤ 100 000)
SLOTS_COLUMN = "minute_slots"


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


def claim_minute(tables: Any, database_id: str, table: str, row_id: str, now: float) -> tuple[Any, Count]:
    """Take one of this minute's permits from the key row ``row_id``: (the row as it is now, the minute's
    ``Count``). Raises the 404 of a row that does not exist."""
    number = int(now // 60)
    base = number * SLOTS
    reset = max(1, math.ceil((number + 1) * 60 - now))
    for _attempt in range(4):
        try:
            row = tables.decrement_row_column(database_id, table, row_id, SLOTS_COLUMN, 1, min=base)
            remaining = int(row.data.get(SLOTS_COLUMN) or 0) % SLOTS
            limit = _per_minute(row)
            return row, Count("minute", limit, max(1, limit - remaining), reset)
        except AppwriteException as error:
            if not (error.code == 400 and error.type == LIMIT_EXCEEDED):
                raise
        row = tables.get_row(database_id, table, row_id)  # spent, or still an earlier minute's permits?
        value, limit = int(row.data.get(SLOTS_COLUMN) or 0), _per_minute(row)
        if value >= base and value % SLOTS == 0:
            return row, Count("minute", limit, limit + 1, reset)
        if value > base:
            continue  # refilled meanwhile by another request: take a permit again
        try:  # this minute's permits; a stale refill (another request refilled first) passes the max: refused
            tables.increment_row_column(database_id, table, row_id, SLOTS_COLUMN, base + limit - value,
                                        max=base + limit)
        except AppwriteException as error:
            if not (error.code == 400 and error.type == LIMIT_EXCEEDED):
                raise
    raise RuntimeError("the minute's permits kept changing")


def _per_minute(row: Any) -> int:
    return min(SLOTS - 1, max(1, int(row.data.get("rate_limit_per_minute") or 1)))


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


def enforce(tables: Any, database_id: str, key: Any, minute: Count, response_headers: dict[str, str],
            now: float) -> None:
    """Check the minute (already counted by ``claim_minute``), then count the day; 429 ``rate_limited`` (with
    ``Retry-After``) at the first refusal."""
    counts = [minute]
    response_headers.update(headers(counts))
    _refuse_over(minute)
    day = count(tables, database_id, key.id, "day", 86_400, key.rate_limit_per_day, now)
    counts.append(day)
    response_headers.update(headers(counts))
    _refuse_over(day)


def _refuse_over(counted: Count) -> None:
    if not counted.allowed:
        raise TooManyRequests(
            f"More than {counted.limit} requests per {counted.window} for this API key; try again in "
            f"{counted.reset} s.", retry_after=counted.reset,
            details={"window": counted.window, "limit": counted.limit, "reset_seconds": counted.reset})


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
