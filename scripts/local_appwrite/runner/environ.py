"""Per-execution environment variables for functions that run inside the stack's own process.

On Appwrite each function runs in its own container, so ``os.environ["APPWRITE_FUNCTION_ID"]`` is
that function's id. In source mode many executions of different functions run at once on threads
of one process, so setting ``os.environ`` per execution would race. Instead :func:`install`
replaces ``os.environ`` (once, for the whole process) with :class:`OverlayEnviron`: a drop-in
``os._Environ`` sharing the real environment's data, whose lookups first consult the overlay of
the *current execution*, held in a ``contextvars.ContextVar``. Outside an execution it behaves
exactly like the real ``os.environ``.

Limits (documented in docs/local-appwrite.md):

* the overlay follows the execution's context: it is visible in ``main``, in code it calls, in
  ``asyncio`` tasks and in ``asyncio.to_thread``; a ``threading.Thread`` or executor the function
  starts itself begins with an empty context and sees only the process environment;
* subprocesses started with ``env=None`` inherit the process environment, not the overlay
  (pass ``env=dict(os.environ)`` to hand it on);
* writes to ``os.environ`` during an execution stay in that execution's overlay.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Iterator

_DELETED = object()
OVERLAY: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar("function_env", default=None)
_install_lock = threading.Lock()


class OverlayEnviron(os._Environ):  # type: ignore[name-defined]  # os._Environ is what os.environ is
    def __init__(self, real: os._Environ) -> None:  # type: ignore[name-defined]
        super().__init__(real._data, real.encodekey, real.decodekey, real.encodevalue, real.decodevalue)

    def __getitem__(self, key: str) -> str:
        overlay = OVERLAY.get()
        if overlay is not None and key in overlay:
            value = overlay[key]
            if value is _DELETED:
                raise KeyError(key)
            return value  # type: ignore[return-value]
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: str) -> None:
        overlay = OVERLAY.get()
        if overlay is None:
            super().__setitem__(key, value)
            return
        self.encodevalue(value)  # same type checks as the real mapping
        overlay[key] = value

    def __delitem__(self, key: str) -> None:
        overlay = OVERLAY.get()
        if overlay is None:
            super().__delitem__(key)
            return
        if key not in self:
            raise KeyError(key)
        overlay[key] = _DELETED

    def __iter__(self) -> Iterator[str]:
        overlay = OVERLAY.get()
        if overlay is None:
            yield from super().__iter__()
            return
        for key in list(super().__iter__()):
            if key not in overlay:
                yield key
        for key, value in list(overlay.items()):
            if value is not _DELETED:
                yield key

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __contains__(self, key: object) -> bool:
        try:
            self[key]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def copy(self) -> dict[str, str]:
        return dict(self)


def install() -> None:
    """Replace ``os.environ`` by the overlay-aware mapping (idempotent)."""
    with _install_lock:
        if not isinstance(os.environ, OverlayEnviron):
            os.environ = OverlayEnviron(os.environ)  # noqa: B003 - same data, nothing is cleared


def context_with(env: dict[str, str]) -> contextvars.Context:
    """A copy of the current context in which ``os.environ`` also shows ``env``."""
    token = OVERLAY.set(dict(env))
    try:
        return contextvars.copy_context()
    finally:
        OVERLAY.reset(token)
