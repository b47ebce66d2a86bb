"""Run functions on their ``schedule`` (CRON) while the stack runs, as Appwrite's scheduler does.

CRON expressions are evaluated by ``cronsim`` (a small, maintained CRON library; Appwrite uses the
standard five fields). Each due run is an asynchronous execution with trigger ``schedule``, no
user and no body. Runs missed while the stack was stopped are not caught up (neither are they on
Appwrite). Appwrite's ``_APP_FUNCTIONS_SCHEDULE_SPREAD`` jitter is not imitated.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from cronsim import CronSim, CronSimError

from .runner.project import FunctionSpec

TICK_SECONDS = 1.0


class Scheduler:
    def __init__(
        self, functions: Callable[[], dict[str, FunctionSpec]], launch: Callable[[FunctionSpec], object]
    ) -> None:
        self._functions = functions
        self._launch = launch
        self._next: dict[str, tuple[str, datetime]] = {}  # function id -> (expression, next run)
        self._invalid: set[str] = set()

    def loop(self, stop: threading.Event) -> None:
        while not stop.wait(TICK_SECONDS):
            try:
                self.tick(datetime.now(UTC))
            except Exception as error:  # never let one bad tick stop the schedules
                print(f"local-appwrite scheduler: {error!r}", file=sys.stderr)

    def tick(self, now: datetime) -> list[str]:
        """Launch every function whose next run is due at ``now``; return their ids."""
        launched = []
        specs = {fid: fn for fid, fn in self._functions().items() if fn.schedule and fn.enabled}
        for fid in set(self._next) - set(specs):
            del self._next[fid]
        for fid, fn in specs.items():
            known = self._next.get(fid)
            if known is None or known[0] != fn.schedule:
                following = self._following(fn, now)
                if following is not None:
                    self._next[fid] = (fn.schedule, following)
                continue
            if known[1] <= now:
                self._launch(fn)
                launched.append(fid)
                following = self._following(fn, now)
                if following is not None:
                    self._next[fid] = (fn.schedule, following)
        return launched

    def next_run(self, function_id: str) -> datetime | None:
        known = self._next.get(function_id)
        return known[1] if known else None

    def _following(self, fn: FunctionSpec, after: datetime) -> datetime | None:
        try:
            return next(CronSim(fn.schedule, after))
        except (CronSimError, StopIteration):
            if fn.id not in self._invalid:
                self._invalid.add(fn.id)
                print(f"local-appwrite: invalid schedule {fn.schedule!r} of function {fn.id}", file=sys.stderr)
            return None
