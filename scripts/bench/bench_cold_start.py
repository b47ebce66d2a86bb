"""Cold start in build mode: first execution of a freshly started stack vs warm executions.

Build mode runs each function from its vendored ``build/`` copy in a worker process, as Appwrite
runs a container; the first execution pays for starting it and importing the function.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions

from .support import client_for, private_stack, timed

STARTS = 3
WARM = 30


def run(report) -> None:  # type: ignore[no-untyped-def]
    import build_functions

    build_dir = Path(tempfile.mkdtemp(prefix="bigtech-bench-build-")) / "functions"
    build_functions.build(build_dir, only=["health"], log=lambda line: None)

    cold: list[float] = []
    warm: list[float] = []
    for _ in range(STARTS):
        with private_stack(functions_mode="build", build_dir=build_dir) as stack:
            functions = Functions(client_for(stack))

            def execute(functions: Functions = functions) -> None:
                execution = functions.create_execution("health", path="/", method=ExecutionMethod.GET)
                if execution.responsestatuscode != 200:
                    raise RuntimeError(f"health answered {execution.responsestatuscode}: {execution.responsebody}")

            started = time.perf_counter()
            execute()
            cold.append(time.perf_counter() - started)
            warm += timed(execute, WARM)
    report.timings("cold execution (first after start)", cold)
    report.timings("warm execution", warm)
