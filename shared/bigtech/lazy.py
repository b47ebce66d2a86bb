"""Package attributes imported on first use (PEP 562), so a cold start loads only what a route needs.

A package ``__init__`` that re-exports its submodules' names eagerly makes ``import bigtech.bus.envelope``
load pika and the relay too. Instead::

    if TYPE_CHECKING:          # what mypy and readers see
        from .relay import Relay
    __getattr__ = lazy.exports(__name__, {"Relay": ".relay"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[name]`` (relative to ``package``) on first access."""

    def load(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, package), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    return load


__all__ = ["exports"]
