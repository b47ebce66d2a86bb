"""The Storage service: buckets and files as Appwrite 1.9 serves them (``docs/local-appwrite.md``).

``store.py`` keeps the bucket and file documents in SQLite and the bytes on disk under
``<data dir>/storage/<bucket>/``; ``access.py`` is Appwrite's permission model (bucket-level and, with
``fileSecurity``, file-level); ``uploads.py`` the chunked upload exactly as the SDK sends it
(``content-range`` and, after the first chunk, ``x-appwrite-id``); ``routes.py`` the HTTP routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..http import Router
from . import routes
from .store import FileStore

if TYPE_CHECKING:
    from ..app import LocalAppwrite


def register(stack: LocalAppwrite, router: Router) -> None:
    stack.files = FileStore(stack.storage, stack.settings.data_dir / "storage")  # type: ignore[attr-defined]
    routes.register(stack, router)
