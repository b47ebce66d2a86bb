"""Benchmarks of the local platform (``invoke bench``): each ``bench_*.py`` exposes ``run(report)``."""
