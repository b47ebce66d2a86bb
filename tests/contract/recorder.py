"""Records what every local stack in the test session answers, for the contract test.

Every ``LocalAppwrite`` built during the session gets an observer on its dispatcher, so any test
that talks to a stack through the SDK also feeds the contract check. A few samples per
(method, route, status) are kept: enough to validate shapes without holding every response.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

SAMPLES_PER_KEY = 3


@dataclass(frozen=True)
class Sample:
    method: str
    path: str
    route: str | None
    status: int
    body: Any


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[tuple[str, str | None, int], list[Sample]] = defaultdict(list)

    def observe(self, request, route, response) -> None:
        pattern = route.pattern if route is not None else None
        bucket = self.samples[(request.method, pattern, response.status)]
        if len(bucket) < SAMPLES_PER_KEY and not isinstance(response.body, bytes):
            path = request.path[len("/v1"):] or "/"
            bucket.append(Sample(request.method, path, pattern, response.status, copy.deepcopy(response.body)))

    def all(self) -> list[Sample]:
        return [sample for bucket in self.samples.values() for sample in bucket]

    def routes_seen(self, successful: bool = True) -> set[tuple[str, str]]:
        return {
            (method, pattern)
            for (method, pattern, status) in self.samples
            if pattern is not None and (status < 400) == successful
        }


RECORDER = Recorder()
