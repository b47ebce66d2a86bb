"""The TablesDB service of the local Appwrite (``/v1/tablesdb...``), stored in SQLite.

Modules: ``schema`` (metadata and DDL), ``databases``/``columns``/``indexes`` (their routes),
``validation`` (row data against columns), ``queries`` (Query JSON → SQL), ``store`` and ``bulk``
(row writes on a connection), ``rows`` (row routes), ``transactions``/``txn_ops`` (staging and
commit), ``serialize`` (response shapes), ``service`` (metadata cache and events).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import columns, databases, indexes, rows, transactions
from .service import TablesService

if TYPE_CHECKING:
    from ..app import LocalAppwrite
    from ..http import Router


def register(stack: LocalAppwrite, router: Router) -> None:
    service = TablesService(stack.storage, stack.events)
    stack.tablesdb = service  # type: ignore[attr-defined]  # for seeding scripts and tests
    # /tablesdb/transactions must be matched before /tablesdb/{databaseId}
    for module in (transactions, databases, columns, indexes, rows):
        module.register(service, router)
