"""Sync execution overhead: ``health`` through the executions API vs a bare HTTP round trip."""

from __future__ import annotations

import statistics

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions

from .support import client_for, private_stack, timed

EXECUTIONS = 100


def run(report) -> None:  # type: ignore[no-untyped-def]
    with private_stack() as stack:
        client = client_for(stack)
        functions = Functions(client)

        def execute() -> float:
            execution = functions.create_execution("health", path="/", method=ExecutionMethod.GET)
            if execution.responsestatuscode != 200:
                raise RuntimeError(f"health answered {execution.responsestatuscode}: {execution.responsebody}")
            return execution.duration

        execute()  # warm the function (imports) so the numbers are steady-state
        baseline = timed(lambda: client.call("get", "/health"), EXECUTIONS)
        durations: list[float] = []
        executions = timed(lambda: durations.append(execute()), EXECUTIONS)
        report.timings("HTTP round trip (GET /health)", baseline)
        report.timings("sync execution of health", executions)
        overhead = statistics.fmean(executions) - statistics.fmean(baseline)
        report.metric("execution overhead (mean, vs round trip)", overhead * 1000, "ms")
        report.metric("health duration reported by Appwrite (mean)", statistics.fmean(durations) * 1000, "ms")
