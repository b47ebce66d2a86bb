"""Deployment settings of the delivery engine: the retry schedule and when a failing endpoint is disabled.

Read from the environment on every call (nothing cached across executions) so tests and operators can
shorten them: ``BIGTECH_WEBHOOK_RETRY_SCHEDULE`` (comma-separated seconds, one per attempt, the first
being the immediate one) and ``BIGTECH_WEBHOOK_DISABLE_AFTER_SECONDS``.
"""

from __future__ import annotations

import os

# Svix's schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
DEFAULT_DISABLE_AFTER = 5 * 24 * 3600.0  # an endpoint failing for 5 days is disabled
SCHEDULE_VARIABLE = "BIGTECH_WEBHOOK_RETRY_SCHEDULE"
DISABLE_VARIABLE = "BIGTECH_WEBHOOK_DISABLE_AFTER_SECONDS"


def retry_schedule() -> tuple[float, ...]:
    raw = os.environ.get(SCHEDULE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_SCHEDULE
    try:
        values = tuple(float(part) for part in raw.split(",") if part.strip())
    except ValueError:
        return DEFAULT_SCHEDULE  # a typo must not stop deliveries: fall back to the real schedule
    return values if values and all(v >= 0 for v in values) else DEFAULT_SCHEDULE


def disable_after_seconds() -> float:
    try:
        value = float(os.environ.get(DISABLE_VARIABLE, "") or DEFAULT_DISABLE_AFTER)
    except ValueError:
        return DEFAULT_DISABLE_AFTER
    return value if value > 0 else DEFAULT_DISABLE_AFTER


def delay_before(step: int) -> float | None:
    """Seconds to wait before the attempt at ``step`` (0-based) of a round; ``None`` when the schedule is over."""
    schedule = retry_schedule()
    return schedule[step] if 0 <= step < len(schedule) else None
