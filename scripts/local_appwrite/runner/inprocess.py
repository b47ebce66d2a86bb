"""Source mode: run functions from their source folders inside the stack's own process.

Fast to start and to edit (code changes are picked up on the next execution), at the price of
sharing one interpreter: see ``environ.py`` for how each execution still sees its own
``APPWRITE_FUNCTION_*`` variables. ``import bigtech`` resolves to ``<repo>/shared/bigtech``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from . import environ
from .context import build_context, run
from .loader import ModuleCache, package_name
from .project import FunctionSpec


class InProcessRunner:
    def __init__(self, shared_dir: Path | None = None) -> None:
        environ.install()
        if shared_dir is not None and shared_dir.is_dir() and str(shared_dir) not in sys.path:
            sys.path.append(str(shared_dir))
        self.modules = ModuleCache(reload_on_change=True)

    def execute(
        self, fn: FunctionSpec, env: dict[str, str], method: str, path: str, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        context = build_context(method, path, headers, body, fn.logging)
        package = package_name(fn.id)
        return run(
            lambda: self.modules.main(package, fn.folder, fn.entrypoint),
            context,
            fn.timeout,
            environ.context_with(env),
        )

    def close(self) -> None:
        """Nothing to stop: in-process modules stay imported (warm) for the next stack."""
