"""Records what every local stack in the test session answers, for the contract check.

Every ``LocalAppwrite`` built during the session gets an observer on its dispatcher, so any test
that talks to a stack through the SDK also feeds the contract check. A few samples per
(method, route, status) are kept: enough to validate shapes without holding every response.
With pytest-xdist each worker records its own stacks and saves its samples at the end of its session;
the controller merges them (``tests/contract/session_check.py``).

Every function answer (the ``responseBody`` of a synchronous ``createExecution`` or a ``getExecution``) is
also checked against the API style guide as it passes (``tests/support/api_style.py``); only the
violations are kept, one per (function, method, path, problem), for the check at the session's end.
"""

from __future__ import annotations

import copy
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.api_style import execution_violations

INDEX = re.compile(r"\[\d+\]")
EXECUTION_ROUTES = frozenset({"/functions/{functionId}/executions", "/functions/{functionId}/executions/{executionId}"})

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
        # (method, route) pairs the session must have answered successfully (set by the contract test)
        self.required_routes: set[tuple[str, str]] = set()
        self.style: dict[str, None] = {}  # "function METHOD path: problem", first seen first
        self.executions_checked = 0

    def check_style(self, route, response) -> None:
        if route is None or route.pattern not in EXECUTION_ROUTES or not isinstance(response.body, dict):
            return
        execution = response.body
        self.executions_checked += 1
        path = str(execution.get("requestPath") or "/").partition("?")[0]
        where = f"{execution.get('functionId')} {execution.get('requestMethod')} {path}"
        where += f" → {execution.get('responseStatusCode')}"
        for problem in execution_violations(execution):
            self.style.setdefault(f"{where}: {INDEX.sub('[]', problem)}", None)

    def observe(self, request, route, response) -> None:
        self.check_style(route, response)
        pattern = route.pattern if route is not None else None
        bucket = self.samples[(request.method, pattern, response.status)]
        if len(bucket) < SAMPLES_PER_KEY and not isinstance(response.body, bytes):
            path = request.path[len("/v1"):] or "/"
            bucket.append(Sample(request.method, path, pattern, response.status, copy.deepcopy(response.body)))

    def all(self) -> list[Sample]:
        return [sample for bucket in self.samples.values() for sample in bucket]

    def save(self, path: Path) -> None:
        # every (method, route, status) answered, sampled or not (a 204 has no body to sample)
        saved = {"samples": [sample.__dict__ for sample in self.all()], "answered": list(self.samples),
                 "required_routes": sorted(self.required_routes), "style": list(self.style),
                 "executions_checked": self.executions_checked}
        path.write_text(json.dumps(saved, default=str), encoding="utf-8")

    def load(self, path: Path) -> None:
        saved = json.loads(path.read_text(encoding="utf-8"))
        for method, route, status in saved["answered"]:
            self.samples.setdefault((method, route, status), [])  # answered, maybe without a sample
        self.merge([Sample(**fields) for fields in saved["samples"]],
                   {(method, route) for method, route in saved["required_routes"]})
        self.style.update(dict.fromkeys(saved["style"]))
        self.executions_checked += saved["executions_checked"]

    def merge(self, samples: list[Sample], required_routes: set[tuple[str, str]]) -> None:
        for sample in samples:
            bucket = self.samples[(sample.method, sample.route, sample.status)]
            if len(bucket) < SAMPLES_PER_KEY:
                bucket.append(sample)
        self.required_routes |= required_routes

    def routes_seen(self, successful: bool = True) -> set[tuple[str, str]]:
        return {
            (method, pattern)
            for (method, pattern, status) in self.samples
            if pattern is not None and (status < 400) == successful
        }


RECORDER = Recorder()
