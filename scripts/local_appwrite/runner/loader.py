"""Import a function's entrypoint as a module of a package bound to the function's folder.

Appwrite's runtime imports ``src/main.py`` as ``function.src.main``, so relative imports
(``from .utils import x``) work. Here each function gets its own package name (``_fn_<id>`` in
process, so many functions can live in one interpreter without their ``src`` packages clashing;
``function`` in a build-mode worker, as on Appwrite) whose ``__path__`` is the function's folder.

In source mode the stack re-imports a function whose ``.py`` files changed (checked at most once
a second), so editing code while the stack runs takes effect on the next execution. Standard
library only: the build-mode worker loads this file by its path.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

RECHECK_SECONDS = 1.0


def package_name(function_id: str) -> str:
    return "_fn_" + re.sub(r"\W", "_", function_id)


def module_name(package: str, entrypoint: str) -> str:
    """``src/main.py`` → ``<package>.src.main``."""
    path = entrypoint[:-3] if entrypoint.endswith(".py") else entrypoint
    return package + "." + path.strip("/").replace("/", ".")


class ModuleCache:
    """Imports entrypoints once and keeps them warm, like a warm Appwrite container."""

    def __init__(self, reload_on_change: bool = False) -> None:
        self.reload_on_change = reload_on_change
        self._lock = threading.Lock()
        self._package_locks: dict[str, threading.Lock] = {}
        self._loaded: dict[str, tuple[float, float]] = {}  # package -> (code signature, last check)

    def main(self, package: str, folder: Path, entrypoint: str) -> Callable[..., Any]:
        with self._lock:  # one lock per function: a slow import never blocks another function
            package_lock = self._package_locks.setdefault(package, threading.Lock())
        with package_lock:
            self._refresh(package, folder)
            module = importlib.import_module(module_name(package, entrypoint))
        return module.main

    def _refresh(self, package: str, folder: Path) -> None:
        known = self._loaded.get(package)
        now = time.monotonic()
        if known is not None and (not self.reload_on_change or now - known[1] < RECHECK_SECONDS):
            return
        signature = _code_signature(folder) if self.reload_on_change else 0.0
        if known is not None and known[0] == signature:
            self._loaded[package] = (signature, now)
            return
        forget(package)
        bind_package(package, folder)
        importlib.invalidate_caches()
        self._loaded[package] = (signature, now)


def bind_package(package: str, folder: Path) -> types.ModuleType:
    """Register ``package`` as the package whose submodules are the files under ``folder``.

    The folder itself is not put on ``sys.path``: the runtime imports ``function.src.main`` from
    the folder's *parent*. A root ``__init__.py`` (the build writes one that puts the folder on
    ``sys.path`` for the vendored ``bigtech``) runs as the package's own, as it would there.
    """
    init = folder / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[str(folder)])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[package]
            raise
        return module
    module = types.ModuleType(package)
    module.__path__ = [str(folder)]
    module.__file__ = None
    module.__package__ = package
    sys.modules[package] = module
    return module


def forget(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def _code_signature(folder: Path) -> float:
    latest = 0.0
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in {"__pycache__", ".venv", "node_modules", ".git"}]
        for name in files:
            if name.endswith(".py"):
                try:
                    latest = max(latest, os.stat(os.path.join(root, name)).st_mtime)
                except OSError:
                    continue
    return latest
