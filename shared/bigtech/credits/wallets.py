"""Wallets: one row per member and tenant, row id = user id, created on first need.

The balance changes **only** by Appwrite's atomic increment/decrement (``min=0`` on the way down), never
by reading it and writing a new value, so concurrent consultas can neither overdraw nor lose an
update. ``held`` counts the credits reserved by consultas still running.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from ..appwrite_access import is_unique_violation

TABLE = "wallets"
# The tenant-level wallet mercado-atacado's API keys spend from (docs/mercado.md): not a member, so its row
# id is not one Appwrite generates for users (ID.unique() is hex); funded by grants like a member's.
SERVICE_WALLET = "tenant.service"


@dataclass(frozen=True)
class Wallet:
    user_id: str
    balance: int = 0
    held: int = 0
    exists: bool = False
    updated_at: str | None = None

    def to_public(self) -> dict[str, Any]:
        # a wallet is keyed by its owner: ``id`` is the wallet's, ``user_id`` names the owner (the same value)
        return {"id": self.user_id, "user_id": self.user_id, "balance": self.balance, "held": self.held,
                "updated_at": self.updated_at}


def read_wallet(tables: TablesDB, database_id: str, user_id: str) -> Wallet:
    """The member's wallet; an empty one (balance 0) when it was never created."""
    try:
        row = tables.get_row(database_id, TABLE, user_id)
    except AppwriteException as error:
        if error.code == 404:
            return Wallet(user_id)
        raise
    data = row.data
    return Wallet(user_id, int(data.get("balance") or 0), int(data.get("held") or 0), True, row.updatedat or None)


def ensure_wallet(tables: TablesDB, database_id: str, user_id: str) -> bool:
    """Create the wallet if missing; ``True`` if this call created it. Safe under concurrency: of two
    creators one gets 409 (the row exists), which is exactly the state both wanted."""
    try:
        tables.create_row(database_id, TABLE, user_id, {"user_id": user_id, "balance": 0, "held": 0})
        return True
    except AppwriteException as error:
        if is_unique_violation(error):
            return False
        raise


__all__ = ["SERVICE_WALLET", "TABLE", "Wallet", "ensure_wallet", "read_wallet"]
