"""bigtech.retry: the one retry-with-backoff helper (full jitter, bounded attempts)."""

import pytest

from bigtech.retry import retry


class Flaky:
    def __init__(self, failures, error=LookupError):
        self.failures, self.error, self.calls = failures, error, 0

    def __call__(self):
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error("conflict")
        return "done"


def test_retries_accepted_errors_with_bounded_jittered_waits():
    call, waits = Flaky(3), []
    assert retry(call, retry_on=lambda e: isinstance(e, LookupError), attempts=5, base_delay=0.1, max_delay=0.25,
                 sleep=waits.append) == "done"
    assert call.calls == 4 and len(waits) == 3
    assert all(0 <= wait <= bound for wait, bound in zip(waits, (0.1, 0.2, 0.25), strict=True))


def test_gives_up_after_attempts_with_the_last_error():
    call, waits = Flaky(10), []
    with pytest.raises(LookupError):
        retry(call, retry_on=lambda e: True, attempts=3, sleep=waits.append)
    assert call.calls == 3 and len(waits) == 2


def test_other_errors_are_raised_at_once():
    call = Flaky(1, error=ValueError)
    with pytest.raises(ValueError):
        retry(call, retry_on=lambda e: isinstance(e, LookupError), attempts=5, sleep=lambda _s: None)
    assert call.calls == 1


def test_exhausted_replaces_the_last_accepted_error():
    with pytest.raises(TimeoutError):
        retry(Flaky(10), retry_on=lambda e: isinstance(e, LookupError), attempts=2, sleep=lambda _s: None,
              exhausted=lambda: TimeoutError("busy"))
    with pytest.raises(ValueError):  # not an accepted error: raised as it is
        retry(Flaky(1, error=ValueError), retry_on=lambda e: isinstance(e, LookupError), attempts=2,
              exhausted=lambda: TimeoutError("busy"))
