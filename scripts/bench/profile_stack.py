"""Where the local stack's CPU goes while it serves consultas: ``python -m bench.profile_stack``.

Not a benchmark (``bench.run`` only discovers ``bench_*``): a harness to profile the stack process.
It starts a private stack in build mode (functions in worker processes, one execution at a time per
instance, as ``bench_runtime``), a tenant and ``CLIENTS`` analysts, warms up, then runs ``CONSULTAS``
cadastral consultas from ``CLIENTS`` concurrent clients and prints the CPU this process spent per
consulta and per API call it served, the clients' own SDK calls taken out (their threads' CPU time).

``--profile FILE`` also runs cProfile in every thread of this process during the measured run (one
profiler per thread, merged) and writes the stats to FILE, printing the top entries; cProfile roughly
doubles the CPU it measures, so compare CPU figures without it.

Usage: ``PYTHONPATH=shared:scripts python -m bench.profile_stack [--consultas 48] [--profile out.prof]``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from appwrite.client import Client

from .bench_consultas import Counting, setup
from .bench_runtime import (
    build_all,
    cpu_seconds,
    instances_setting,
    one_consulta,
    plugin_function_ids,
    settle,
    worker_pids,
)
from .support import private_stack


class ThreadProfiles:
    """cProfile in every thread started while it is on (the stack's request threads), merged at the end."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()
        self.on = False

    def _start_in_thread(self, *_: Any) -> None:
        sys.setprofile(None)
        if not self.on:
            return
        profile = cProfile.Profile(time.thread_time)  # CPU, not the waits for workers and locks
        with self.lock:
            self.profiles.append(profile)
        profile.enable()

    def start(self) -> None:
        self.on = True
        threading.setprofile(self._start_in_thread)

    def stop(self, out: Path) -> pstats.Stats:
        self.on = False
        threading.setprofile(None)  # type: ignore[arg-type]
        with self.lock:
            profiles = list(self.profiles)
        for profile in profiles:
            profile.disable()  # only affects this thread's hook; stats are still readable
        stats = pstats.Stats(*profiles)
        stats.dump_stats(str(out))
        return stats


class RouteCpu:
    """The CPU of each request's handling (``Dispatcher.handle``: routing, auth, the handler, observers),
    by method and route pattern, measured in the request's thread."""

    def __init__(self, dispatcher: Any) -> None:
        self.cpu: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self.on = False
        original = dispatcher.handle

        def timed(request: Any) -> Any:
            started = time.thread_time()
            response = original(request)
            if self.on:
                try:
                    route, _ = dispatcher.router.match(request.method, request.path[3:] or "/")
                    key = f"{request.method} {route.pattern}"
                except Exception:
                    key = f"{request.method} (no route)"
                with self.lock:
                    entry = self.cpu.setdefault(key, [0, 0.0])
                    entry[0] += 1
                    entry[1] += time.thread_time() - started
            return response

        dispatcher.handle = timed

    def print(self, consultas: int) -> None:
        total = sum(cpu for _, cpu in self.cpu.values())
        print(f"handling CPU by route (ms per consulta; {total / consultas * 1000:.1f} in all):")
        for key, (count, cpu) in sorted(self.cpu.items(), key=lambda item: -item[1][1]):
            print(f"  {cpu / consultas * 1000:6.2f} ms  {count / consultas:5.2f} calls  "
                  f"{cpu / count * 1000:5.2f} ms/call  {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consultas", type=int, default=48)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--instances", type=int, default=1)
    parser.add_argument("--profile", type=Path, help="write merged cProfile stats of the measured run here")
    parser.add_argument("--top", type=int, default=45)
    parser.add_argument("--by-route", action="store_true", help="CPU of the handlers (after parsing) by route")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bigtech-profile-stack-") as out:
        build_dir = build_all(Path(out))
        settings = instances_setting(args.instances, plugin_function_ids(build_dir))
        with private_stack(functions_mode="build", build_dir=build_dir, function_instances=settings,
                           sync_timeout_seconds=120.0) as stack:
            counting = Counting(stack.dispatcher.router)
            stack.dispatcher.observers.append(counting.observe)
            served = [0]

            def count_all(request: Any, route: Any, response: Any) -> None:
                served[0] += 1  # under the GIL: good enough for a count

            stack.dispatcher.observers.append(count_all)
            by_route = RouteCpu(stack.dispatcher) if args.by_route else None
            _, analysts = setup(stack, args.clients)
            client_cpu = [0.0]
            lock = threading.Lock()

            def client_loop(client: Client, count: int) -> None:
                started = time.thread_time()
                for _ in range(count):
                    _, problem = one_consulta(client, "cadastral")
                    if problem:
                        print("FAILED", problem, file=sys.stderr)
                with lock:
                    client_cpu[0] += time.thread_time() - started

            with ThreadPoolExecutor(max_workers=args.clients) as pool:  # warm-up: every worker started
                list(pool.map(lambda c: client_loop(c, 2), analysts))
            settle(counting)

            per_client = max(1, args.consultas // args.clients)
            total = per_client * args.clients
            pids = worker_pids(stack)
            workers_before = {pid: cpu_seconds(pid) for pid in pids}
            client_cpu[0] = 0.0
            if by_route:
                by_route.on = True
            served_before = served[0]
            profiles = ThreadProfiles() if args.profile else None
            if profiles:
                profiles.start()
                stack._server.threads.retire_idle()  # connection threads from the warm-up: new ones get profiled
            print(f"measured run starts (pid {os.getpid()})", flush=True)  # where to attach a sampling profiler
            own_before = sum(os.times()[:2])
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.clients) as pool:
                list(pool.map(lambda c: client_loop(c, per_client), analysts))
            wall = time.perf_counter() - started
            settle(counting)  # the relay's deliveries count as the run's
            process_cpu = sum(os.times()[:2]) - own_before
            calls = served[0] - served_before
            workers_cpu = sum(cpu_seconds(pid) - workers_before.get(pid, 0.0) for pid in worker_pids(stack))
            stack_cpu = process_cpu - client_cpu[0]
            print(f"consultas {total} in {wall:.1f}s ({total / wall:.2f}/s), requests served {calls} "
                  f"({calls / total:.1f} per consulta), load {os.getloadavg()[0]:.1f}")
            print(f"CPU ms per consulta: stack {stack_cpu / total * 1000:.1f}, "
                  f"clients {client_cpu[0] / total * 1000:.1f}, workers {workers_cpu / total * 1000:.1f}")
            print(f"stack CPU ms per request served: {stack_cpu / calls * 1000:.2f}")
            if by_route:
                by_route.print(total)
            if profiles and args.profile:
                stats = profiles.stop(args.profile)
                stats.sort_stats("tottime").print_stats(args.top)
                stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
