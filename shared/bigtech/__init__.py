"""Bigtech's shared library: what two or more functions need (HTTP routing, errors, Appwrite access, logging).

It is vendored into every function at build time (``scripts/build_functions.py``) and is on the path
as ``shared/`` during development and tests, so every module here must import without side effects
and must never keep per-execution state (clients, keys, users) at module level.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
