"""``GET /`` (history: category, status, from/to, paginated, newest first) and ``GET /{id}``.

Owners, admins, viewers and platform admins see the tenant's consultas (``user_id`` narrows to one
member); analysts see only their own. Another tenant's consulta does not exist here (404): each
tenant's consultas live in its own database. Every row goes through ``render.for_reader``: viewers
get the result with documents masked (data minimisation, ``render``'s module doc).
"""

from __future__ import annotations

from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from pydantic import BaseModel, Field

from bigtech import appwrite_access
from bigtech.errors import NotFound
from bigtech.http import Request
from bigtech.identity import Identity, current
from bigtech.pagination import ID_PATTERN, created_between, listing, newest_first, page_of
from bigtech.permissions import ANALYST

from . import render
from .models import HistoryQuery

TABLE = "consultas"


def own_only(identity: Identity) -> bool:
    return identity.role == ANALYST


def list_consultas(request: Request) -> Any:
    query = request.query_model(HistoryQuery)
    identity = current(request)
    queries = []
    if own_only(identity):
        queries.append(Query.equal("user_id", [identity.user_id]))
    elif query.user_id:
        queries.append(Query.equal("user_id", [query.user_id]))
    if query.category:
        queries.append(Query.equal("category", [query.category]))
    if query.status:
        queries.append(Query.equal("status", [query.status]))
    queries += [*created_between(query.since, query.until), *newest_first(query)]
    tables = appwrite_access.tables(request)
    listed = listing(lambda: tables.list_rows(identity.database_id, TABLE, queries, total=query.total))
    return page_of(listed, query, lambda row: render.for_reader(row, identity.role, identity.user_id,
                                                                with_result=False))


class ConsultaPath(BaseModel):
    consulta_id: str = Field(pattern=ID_PATTERN)


def read(request: Request, consulta_id: str) -> Any:
    consulta_id = ConsultaPath.model_validate({"consulta_id": consulta_id}).consulta_id
    identity = current(request)
    tables = appwrite_access.tables(request)
    try:
        row = tables.get_row(identity.database_id, TABLE, consulta_id)
    except AppwriteException as error:
        if error.code == 404:
            raise NotFound("Consulta not found.", code="consulta_not_found") from None
        raise
    if own_only(identity) and row.data.get("user_id") != identity.user_id:
        raise NotFound("Consulta not found.", code="consulta_not_found")
    return {"consulta": render.for_reader(row, identity.role, identity.user_id)}
