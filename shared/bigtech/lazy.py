"""What a cold start imports only on first use, so a function loads what the route it serves needs.

Three forms, one idea (the import happens the first time the name is used, not when the importer loads):

- ``exports``: a package's attributes (PEP 562). A package ``__init__`` that re-exports its submodules'
  names eagerly makes ``import bigtech.bus.envelope`` load pika and the relay too. Instead::

      if TYPE_CHECKING:          # what mypy and readers see
          from .relay import Relay
      __getattr__ = lazy.exports(__name__, {"Relay": ".relay", "relay": ".relay"})

  (a name that is the submodule's own name, ``"relay": ".relay"``, gives the submodule itself);
- ``module``: a module loaded on its first attribute access, for a dependency only a rare path needs
  (``httpx`` for a source receipt): ``httpx = lazy.module("httpx")`` with the real import under
  ``TYPE_CHECKING`` for mypy;
- ``handler``: a route handler whose module is imported when the route is first served (or its docs are
  built), so ``main.py`` can list every route without loading every route's dependencies.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any


def exports(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[name]`` (relative to ``package``) on first access."""

    def load(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        imported = importlib.import_module(module, package)
        value = imported if imported.__name__ == f"{package}.{name}" else getattr(imported, name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    return load


def module(name: str) -> ModuleType:
    """``name`` as a module object that runs its import on the first attribute access (``LazyLoader``).

    Already imported: the module itself. Not installed: ``ModuleNotFoundError`` now, not on first use.
    """
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    lazy_module = importlib.util.module_from_spec(spec)
    sys.modules[name] = lazy_module
    loader.exec_module(lazy_module)
    return lazy_module


class _Handler:
    """A handler named by module and attribute, imported on its first call (or first look at it).

    ``__wrapped__`` and ``__doc__`` give the real function, so ``inspect.unwrap`` (the OpenAPI inference)
    and the docs read the handler's own code and docstring.
    """

    def __init__(self, module_name: str, attribute: str, package: str | None) -> None:
        self._module, self._attribute, self._package = module_name, attribute, package

    @functools.cached_property
    def __wrapped__(self) -> Callable[..., Any]:
        target: Callable[..., Any] = getattr(importlib.import_module(self._module, self._package), self._attribute)
        return target

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self.__wrapped__.__doc__

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.__wrapped__(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<lazy handler {self._module}:{self._attribute}>"


def handler(target: str, package: str | None = None) -> Callable[..., Any]:
    """``"module:function"`` (``".history:read"`` relative to ``package``) as a handler loaded on first use."""
    module_name, _, attribute = target.partition(":")
    if not attribute:
        raise ValueError(f"A lazy handler is 'module:function', got {target!r}.")
    return _Handler(module_name, attribute, package)


__all__ = ["exports", "handler", "module"]
