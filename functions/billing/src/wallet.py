"""``GET /wallet[?user_id=]``: a member's balance and the credits held by consultas still running."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access
from bigtech.credits import read_wallet
from bigtech.http import Request
from bigtech.identity import current
from bigtech.pagination import ID_PATTERN

from .access import wallet_owner


class WalletQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    user_id: str | None = Field(None, pattern=ID_PATTERN)


def read(request: Request) -> Any:
    query = request.query_model(WalletQuery)
    identity = current(request)
    user_id = wallet_owner(identity, query.user_id)
    wallet = read_wallet(appwrite_access.tables(request), identity.database_id, user_id)
    return {"wallet": wallet.to_public()}
