"""Consultas under Appwrite's one-at-a-time runtime: build mode with 1, 2 and 4 ``consultas`` instances.

Build mode runs every function from its vendored build (``scripts/build_functions.py``) in worker
processes, each instance serving ONE execution at a time, the others queueing, as on Appwrite
(``BIGTECH_FUNCTION_INSTANCES``, docs/local-appwrite.md). For each count of ``consultas`` instances a
fresh private stack gets a tenant and 8 analysts (``bench_consultas.setup``), then:

- **cold**: as many simultaneous cadastral consultas as there are ``consultas`` instances, so each
  instance (and the plugin and fonte instances they call) serves its first execution, paying the worker's
  start and imports; plus the workers' own start times as the stack measured them;
- **warm**: 8 concurrent clients, each running ``PER_CLIENT`` cadastral consultas back to back:
  consultas/s, p50/p95 latency, consultas/s per ``consultas`` instance, Appwrite API calls and function
  executions per consulta (the consulta's path; the relay's asynchronous delivery of its event apart).

The plugin functions a consulta executes (every ``consulta-*`` and ``fonte-*``) get ``PLUGIN_INSTANCES``
instances, at least the largest ``consultas`` count: a cadastral consulta holds one plugin execution, which
holds one fonte execution at a time, so they never queue behind each other. Workers start on first use,
so only as many plugin workers as the consultas in flight ever run. Everything else keeps Appwrite's
default of 1 (the relay included: its executions are asynchronous and queue without blocking a consulta).

Knobs (environment): ``BENCH_RUNTIME_INSTANCES`` (default ``1,2,4``), ``BENCH_RUNTIME_CLIENTS`` (8),
``BENCH_RUNTIME_PER_CLIENT`` (12), ``BENCH_RUNTIME_CATEGORY`` (``cadastral``).
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appwrite.client import Client

from .bench_consultas import EXECUTIONS_ROUTE, Counting, body_for, call, is_consulta_path, setup
from .call_steps import RELAY_STEPS, SUBSCRIBER_EXECUTIONS, Call, relay_step
from .support import client_for, private_stack

if TYPE_CHECKING:
    from .run import Report

PLUGIN_INSTANCES = 4
PLUGIN_PREFIXES = ("consulta-", "fonte-")


def _setting(name: str, default: str) -> str:
    return os.environ.get(f"BENCH_RUNTIME_{name}", "").strip() or default


@dataclass
class Outcome:
    """One configuration's figures."""

    instances: int
    clients: int
    cold: list[float] = field(default_factory=list)  # latency of each instance's first consulta (s)
    worker_starts: dict[str, list[float]] = field(default_factory=dict)  # function -> each worker's start (s)
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)  # "HTTP 408"…: consultas that did not answer 201
    calls: float = 0.0  # Appwrite API calls per consulta, on the consulta's path
    relay_calls: float = 0.0  # the relay's own API calls per consulta (its subscriber executions apart)
    relay_executions: float = 0.0  # subscriber executions the relay made per consulta (the subscribers' work)
    relay_steps: Counter[str] = field(default_factory=Counter)  # the relay's calls by step, whole measured run
    measured: int = 0  # consultas in the measured run
    executions: float = 0.0  # executions of the consulta's functions per consulta (the client's own included)
    late_workers: int = 0  # workers started during the measured run (0: the warm-up started them all)
    cpu_stack: float = 0.0  # CPU seconds per consulta in this process: the stack and the 8 clients' SDK calls
    cpu_workers: float = 0.0  # CPU seconds per consulta in the function workers (every function's)
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average before and after the warm run

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))] if ordered else 0.0


def instances_setting(consultas: int, plugin_ids: list[str]) -> str:
    """``BIGTECH_FUNCTION_INSTANCES`` for one run: 1 by default, ``consultas`` for it, enough for plugins."""
    plugins = max(PLUGIN_INSTANCES, consultas)
    return ",".join(["1", f"consultas={consultas}", *(f"{fid}={plugins}" for fid in plugin_ids)])


def plugin_function_ids(build_dir: Path) -> list[str]:
    functions = json.loads((build_dir / "appwrite.json").read_text(encoding="utf-8"))["functions"]
    return sorted(f["$id"] for f in functions if str(f["$id"]).startswith(PLUGIN_PREFIXES))


def build_all(out: Path) -> Path:
    """Every function's vendored build, once for all configurations (the repo's build/ is left alone)."""
    import build_functions

    build_dir = out / "functions"
    build_functions.build(build_dir, log=lambda line: None)
    return build_dir


def worker_pids(stack: Any) -> dict[int, str]:
    """Every running worker process of the stack: pid -> function id."""
    workers = client_for(stack).call("get", "/local/functions/workers")["workers"]
    return {w["pid"]: fid for fid, info in workers.items() for w in info["instances"] if w.get("pid")}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux ``/proc``; 0 elsewhere or once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def settle(counting: Counting, quiet: float = 2.0, limit: float = 60.0) -> None:
    """Wait until no function has called the API for ``quiet`` seconds (the relay has delivered the events)."""
    deadline = time.monotonic() + limit
    last, since = sum(counting.calls.values()), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        time.sleep(0.2)
        now = sum(counting.calls.values())
        if now != last:
            last, since = now, time.monotonic()


def one_consulta(client: Client, category: str) -> tuple[float, str]:
    """(seconds, "" when answered 201 else what went wrong)."""
    started = time.perf_counter()
    try:
        status, _ = call(client, "consultas", "POST", "/", body_for(category))
        problem = "" if status == 201 else f"HTTP {status}"
    except Exception as error:  # an SDK exception (e.g. a 408 from a queue past the timeout) is a result here
        problem = f"{type(error).__name__}: {getattr(error, 'code', '') or error}"
    return time.perf_counter() - started, problem


def measure(build_dir: Path, instances: int, clients: int, per_client: int, category: str) -> Outcome:
    settings = instances_setting(instances, plugin_function_ids(build_dir))
    outcome = Outcome(instances, clients)
    with private_stack(functions_mode="build", build_dir=build_dir, function_instances=settings,
                       sync_timeout_seconds=120.0) as stack:
        counting = Counting(stack.dispatcher.router)
        stack.dispatcher.observers.append(counting.observe)
        executions: Counter[str] = Counter()  # executions created through the API, by function

        def count_execution(request: Any, route: Any, response: Any) -> None:
            if route is not None and route.pattern == EXECUTIONS_ROUTE and request.method == "POST":
                with counting.lock:  # the stack's request threads
                    executions[request.path.split("/")[3]] += 1  # /v1/functions/<id>/executions

        stack.dispatcher.observers.append(count_execution)
        relay_log: list[Call] = []
        relay_recording = threading.Event()

        def record_relay(request: Any, route: Any, response: Any) -> None:
            caller = getattr(request, "caller", None)
            if (relay_recording.is_set() and route is not None and caller is not None
                    and caller.kind == "ephemeral" and caller.function_id == "relay"):
                with counting.lock:
                    relay_log.append(counting._call("relay", request, route, response))

        stack.dispatcher.observers.append(record_relay)
        _, analysts = setup(stack, max(clients, instances))

        # Cold: one simultaneous first consulta per consultas instance (each queues for a free one).
        gate = threading.Barrier(instances)

        def first(client: Client) -> tuple[float, str]:
            gate.wait()
            return one_consulta(client, category)

        with ThreadPoolExecutor(max_workers=instances) as pool:
            for seconds, problem in pool.map(first, analysts[:instances]):
                outcome.cold.append(seconds)
                if problem:
                    outcome.failures[f"cold: {problem}"] += 1
        workers = client_for(stack).call("get", "/local/functions/workers")["workers"]
        for function_id, info in workers.items():  # the workers this category's path started
            if function_id in ("consultas", f"consulta-{category}", "fonte-sandbox"):
                outcome.worker_starts[function_id] = [w["coldStartSeconds"] for w in info["instances"]]

        # Warm-up, unmeasured: every client runs two consultas, so every instance the measured run can use
        # (plugins and fontes included) has started; then let the relay deliver their events.
        def client_loop(client: Client, count: int, measured: bool) -> None:
            for _ in range(count):
                seconds, problem = one_consulta(client, category)
                if measured:
                    with lock:
                        if problem:
                            outcome.failures[problem] += 1
                        else:
                            outcome.latencies.append(seconds)

        lock = threading.Lock()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(lambda c: client_loop(c, 2, False), analysts[:clients]))
        settle(counting)

        # Measured: ``clients`` analysts, each running ``per_client`` consultas back to back.
        pids = worker_pids(stack)
        with counting.lock:
            calls_before, executions_before = Counter(counting.calls), Counter(executions)
        cpu_before = {pid: cpu_seconds(pid) for pid in pids}
        own_before = sum(os.times()[:2])
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        relay_recording.set()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            list(pool.map(lambda c: client_loop(c, per_client, True), analysts[:clients]))
        outcome.wall = time.perf_counter() - started
        outcome.load = (load_before, os.getloadavg()[0])
        settle(counting)  # the relay's deliveries of the run's events count as the run's
        relay_recording.clear()
        total = outcome.measured = clients * per_client
        outcome.cpu_stack = (sum(os.times()[:2]) - own_before) / total
        outcome.cpu_workers = sum(cpu_seconds(pid) - cpu_before.get(pid, 0.0) for pid in worker_pids(stack)) / total
        outcome.late_workers = len(set(worker_pids(stack)) - set(pids))
        with counting.lock:
            spent, ran = Counter(counting.calls), Counter(executions)
        spent.subtract(calls_before)
        on_path = sum(n for fid, n in spent.items() if is_consulta_path(fid))
        outcome.calls = on_path / total
        with counting.lock:
            outcome.relay_steps = Counter(relay_step(c) for c in relay_log)
        outcome.relay_executions = outcome.relay_steps[SUBSCRIBER_EXECUTIONS] / total
        outcome.relay_calls = spent.get("relay", 0) / total - outcome.relay_executions
        ran.subtract(executions_before)
        outcome.executions = sum(n for fid, n in ran.items() if is_consulta_path(fid)) / total
    return outcome


def record(report: Report, outcome: Outcome) -> None:
    label = f"{outcome.instances} consultas instance{'s' if outcome.instances > 1 else ''}"
    report.metric(f"{label}: cold first consulta per instance (mean)", statistics.fmean(outcome.cold) * 1000, "ms")
    report.metric(f"{label}: cold first consulta per instance (max)", max(outcome.cold) * 1000, "ms")
    for function_id, starts in sorted(outcome.worker_starts.items()):
        report.metric(f"  {label}: {function_id} worker start x{len(starts)} (mean)", statistics.fmean(starts) * 1000,
                      "ms")
    report.metric(f"{label}: consultas/s ({outcome.clients} clients)", outcome.rate, "consultas/s")
    report.metric(f"{label}: consultas/s per consultas instance", outcome.rate / outcome.instances, "consultas/s")
    report.metric(f"{label}: latency p50", percentile(outcome.latencies, 0.5) * 1000, "ms")
    report.metric(f"{label}: latency p95", percentile(outcome.latencies, 0.95) * 1000, "ms")
    report.metric(f"{label}: Appwrite API calls per consulta", outcome.calls, "calls")
    report.metric(f"{label}: executions of the consulta's functions per consulta", outcome.executions, "execs")
    report.metric(f"{label}: CPU per consulta, stack + clients process", outcome.cpu_stack * 1000, "ms")
    report.metric(f"{label}: CPU per consulta, function workers", outcome.cpu_workers * 1000, "ms")
    cpu = outcome.cpu_stack + outcome.cpu_workers
    cores = os.cpu_count() or 1
    report.metric(f"{label}: CPU ceiling ({cores} cores / CPU per consulta)", cores / cpu if cpu else 0.0,
                  "consultas/s")
    if outcome.late_workers:
        report.metric(f"{label}: workers started during the measured run", outcome.late_workers, "workers")
    # The relay's own API calls (its subscriber executions apart) while delivering the run's events; the
    # schedule's runs in that window included (docs/credits-consultas-plugins.md "Performance").
    report.metric(f"{label}: relay calls per consulta (async delivery)", outcome.relay_calls, "calls")
    for step in RELAY_STEPS:
        if outcome.relay_steps[step] and step != SUBSCRIBER_EXECUTIONS:
            report.metric(f"  {label}: relay step {step}", outcome.relay_steps[step] / max(outcome.measured, 1),
                          "calls")
    report.metric(f"{label}: relay subscriber executions per consulta (the subscribers' work)",
                  outcome.relay_executions, "execs")
    report.metric(f"{label}: load average (1 min) before the warm run", outcome.load[0], "")
    report.metric(f"{label}: load average (1 min) after the warm run", outcome.load[1], "")
    for problem, count in sorted(outcome.failures.items()):
        report.metric(f"{label}: FAILED {problem}", count, "consultas")


def table(outcomes: list[Outcome]) -> str:
    """The Markdown table docs/credits-consultas-plugins.md records."""
    lines = [
        "| consultas instances | consultas/s | per instance | p50 (ms) | p95 (ms) | API calls / consulta "
        "| CPU ms / consulta (stack / workers) | cold first consulta (ms, mean / max) | load (1 min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.instances} | {o.rate:.2f} | {o.rate / o.instances:.2f} | {percentile(o.latencies, 0.5) * 1000:,.0f} "
            f"| {percentile(o.latencies, 0.95) * 1000:,.0f} | {o.calls:.1f} "
            f"| {o.cpu_stack * 1000:,.0f} / {o.cpu_workers * 1000:,.0f} "
            f"| {statistics.fmean(o.cold) * 1000:,.0f} / {max(o.cold) * 1000:,.0f} "
            f"| {o.load[0]:.1f} → {o.load[1]:.1f} |"
        )
    return "\n".join(lines)


def run(report: Report) -> None:
    counts = [int(n) for n in _setting("INSTANCES", "1,2,4").split(",") if n.strip()]
    clients = int(_setting("CLIENTS", "8"))
    per_client = int(_setting("PER_CLIENT", "12"))
    category = _setting("CATEGORY", "cadastral")
    report.metric("load average (1 min) at start", os.getloadavg()[0], f"on {os.cpu_count()} cores")
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="bigtech-bench-runtime-") as out:  # ~40 MB of builds
        build_dir = build_all(Path(out))
        for instances in counts:
            outcome = measure(build_dir, instances, clients, per_client, category)
            record(report, outcome)
            outcomes.append(outcome)
    print(table(outcomes), flush=True)
    failed = sum(sum(o.failures.values()) for o in outcomes)
    if failed:
        raise RuntimeError(f"{failed} consultas did not answer 201 (see the FAILED lines)")
