"""The one-at-a-time runtime benchmark (scripts/bench/bench_runtime.py): what it configures and that it runs.

No timings are asserted: the figures are the benchmark's output (``invoke bench --only runtime``).
"""

from __future__ import annotations

import pytest
from bench import bench_runtime
from bench.run import Report


def test_plugins_get_enough_instances_not_to_be_the_bottleneck():
    setting = bench_runtime.instances_setting(4, ["consulta-cadastral", "fonte-sandbox"])
    assert setting == "1,consultas=4,consulta-cadastral=4,fonte-sandbox=4"
    # never fewer plugin instances than consultas instances, whatever the count asked for
    assert "fonte-sandbox=6" in bench_runtime.instances_setting(6, ["fonte-sandbox"])


def test_percentile_picks_the_nearest_rank():
    samples = [float(n) for n in range(1, 101)]
    assert bench_runtime.percentile(samples, 0.5) == 51.0
    assert bench_runtime.percentile(samples, 0.95) == 95.0
    assert bench_runtime.percentile([], 0.95) == 0.0


@pytest.mark.slow
def test_the_benchmark_runs_consultas_in_build_mode(monkeypatch, capsys):
    monkeypatch.setenv("BENCH_RUNTIME_INSTANCES", "1")
    monkeypatch.setenv("BENCH_RUNTIME_CLIENTS", "1")
    monkeypatch.setenv("BENCH_RUNTIME_PER_CLIENT", "2")
    report = Report()
    bench_runtime.run(report)  # raises when a consulta does not answer 201

    figures = {name: value for _, name, value, _ in report.results}
    assert figures["1 consultas instance: consultas/s (1 clients)"] > 0
    assert figures["1 consultas instance: Appwrite API calls per consulta"] > 0  # counted at the stack
    assert figures["  1 consultas instance: consultas worker start x1 (mean)"] > 0  # a real worker process
    assert "| 1 |" in capsys.readouterr().out  # the Markdown table for the docs
