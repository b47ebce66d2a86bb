"""Retry with backoff: the one helper every "lost a race, try again" loop uses.

``retry(call, retry_on=…, attempts=…)`` calls ``call`` until it returns, an error ``retry_on`` rejects is
raised, or ``attempts`` calls have failed (the last error is raised). Between calls it waits with *full
jitter* (a uniform draw in ``[0, min(max_delay, base_delay * 2**n)]``), so concurrent losers spread out
instead of colliding again in lockstep.

The waiting is tenacity's (``wait_random_exponential``); tenacity is imported only once a first call
has failed, so the common path (no conflict) does not pay its import (~50 ms cold, it pulls asyncio in).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def retry(call: Callable[[], T], *, retry_on: Callable[[BaseException], bool], attempts: int,
          base_delay: float = 0.02, max_delay: float = 0.5, sleep: Callable[[float], None] = time.sleep,
          exhausted: Callable[[], Exception] | None = None) -> T:
    """``call()``, again after a jittered exponential wait while it raises what ``retry_on`` accepts.

    When every attempt failed that way, ``exhausted()`` is raised instead of the last error, if given
    (e.g. a 409 ``busy`` for the caller to retry later)."""
    try:
        return _retry(call, retry_on, attempts, base_delay, max_delay, sleep)
    except Exception as error:
        if exhausted is not None and retry_on(error):
            raise exhausted() from None
        raise


def _retry(call: Callable[[], T], retry_on: Callable[[BaseException], bool], attempts: int, base_delay: float,
           max_delay: float, sleep: Callable[[float], None]) -> T:
    try:
        return call()
    except Exception as error:
        if attempts <= 1 or not retry_on(error):
            raise
        first: BaseException | None = error

    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

    def again() -> T:
        nonlocal first
        if first is not None:  # tenacity's attempt 1 is the call that already failed: wait, then call
            failed, first = first, None
            raise failed
        return call()

    retrying = Retrying(stop=stop_after_attempt(attempts), wait=wait_random_exponential(base_delay, max_delay),
                        retry=retry_if_exception(retry_on), sleep=sleep, reraise=True)
    return retrying(again)


__all__ = ["retry"]
