"""Discover and run the ``bench_*.py`` benchmarks: ``python -m bench.run [--only TEXT]``.

Each module exposes ``run(report: Report)`` and starts whatever it measures itself (usually its
own local stack on a free port with a temp data dir), so benchmarks never touch a developer's
running stack or data. A failing benchmark is reported and the run continues; the exit code says
whether all of them passed.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import statistics
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parents[1]


class Report:
    """Collects and prints results as they come, one line per metric."""

    def __init__(self) -> None:
        self.results: list[tuple[str, str, float, str]] = []
        self.current = ""

    def metric(self, name: str, value: float, unit: str) -> None:
        self.results.append((self.current, name, value, unit))
        print(f"  {name:<44} {value:>12,.2f} {unit}", flush=True)

    def timings(self, name: str, seconds: Sequence[float]) -> None:
        """Latency summary of ``seconds`` (one sample per operation) plus the resulting rate."""
        if not seconds:
            return
        ordered = sorted(seconds)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        self.metric(f"{name} mean", statistics.fmean(seconds) * 1000, "ms")
        self.metric(f"{name} p50", statistics.median(seconds) * 1000, "ms")
        self.metric(f"{name} p95", p95 * 1000, "ms")
        self.metric(f"{name} rate", len(seconds) / sum(seconds), "ops/s")


def discover() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules([str(PACKAGE_DIR)]) if info.name.startswith("bench_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Bigtech's benchmarks.")
    parser.add_argument("--only", default="", help="run only benchmarks whose module name contains this text")
    args = parser.parse_args(argv)
    for path in (REPO_ROOT / "shared", REPO_ROOT / "scripts"):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))

    report = Report()
    failed = []
    for name in discover():
        if args.only not in name:
            continue
        print(f"{name}:", flush=True)
        report.current = name
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run(report)
        except Exception:
            failed.append(name)
            traceback.print_exc()
        print(f"  ({time.perf_counter() - started:.1f}s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
