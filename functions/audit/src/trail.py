"""Audit handlers: list (filtered, paginated), verify and export a chain — the tenant's, or the
platform's for platform admins — and its signed checkpoints; the public key verifiers need."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from appwrite.query import Query
from pydantic import BaseModel, ConfigDict, Field

from bigtech import appwrite_access
from bigtech.audit import AuditTrail, all_entries, entry_of, load_public_keys, to_csv, verify_trail
from bigtech.audit.anchoring import stored_checkpoints
from bigtech.audit.chain import normalise_datetime
from bigtech.audit.export import checkpoints_json, trail_json
from bigtech.audit.signing import ALGORITHM
from bigtech.audited import ACTOR_NAME
from bigtech.errors import Unprocessable
from bigtech.http import Request, Response
from bigtech.identity import current
from bigtech.pagination import PageQuery, listing, page_of, page_queries


class AuditQuery(PageQuery):
    action: str | None = Field(None, min_length=1, max_length=64)
    actor: str | None = Field(None, min_length=1, max_length=64)
    from_: datetime | None = Field(None, alias="from")
    to: datetime | None = None


class ExportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: Literal["csv", "json"] = "csv"


def _tenant_trail(request: Request) -> AuditTrail:
    return AuditTrail.tenant(current(request).database_id)


def _query(request: Request) -> AuditQuery:
    query = request.query_model(AuditQuery)
    if query.from_ and query.to and _aware(query.from_) > _aware(query.to):
        raise Unprocessable.field("from", "Must not be after 'to'.")
    return query


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _render(row: Any) -> dict[str, Any]:
    entry = entry_of(row)
    item = entry.to_row()  # seq/prev_hash/hash are null while the entry is not sealed yet
    with contextlib.suppress(ValueError):  # an edited, no longer valid JSON is shown as stored
        item["details"] = json.loads(entry.details)
    details = item["details"] if isinstance(item["details"], dict) else {}
    # the actor's display name as the entry recorded it (bigtech.audited.Actor: inside the hashed details)
    item["actor_name"] = details.get(ACTOR_NAME) if isinstance(details.get(ACTOR_NAME), str) else None
    return {"id": row.id, **item}


def _list(request: Request, trail: AuditTrail) -> Any:
    query = _query(request)
    # Newest first by write order: unsealed entries (no seq yet) are listed where they will be sealed.
    queries = [Query.order_desc("$sequence"), *page_queries(query)]
    if query.action:
        queries.append(Query.equal("action", [query.action]))
    if query.actor:
        queries.append(Query.equal("actor", [query.actor]))
    if query.from_:
        queries.append(Query.greater_than_equal("occurred_at", normalise_datetime(query.from_)))
    if query.to:
        queries.append(Query.less_than_equal("occurred_at", normalise_datetime(query.to)))
    tables = appwrite_access.tables(request)
    listed = listing(lambda: tables.list_rows(trail.database_id, trail.table_id, queries, total=query.total))
    return page_of(listed, query, _render)


def _export(request: Request, trail: AuditTrail, name: str) -> Any:
    wanted = request.query_model(ExportQuery).format
    entries = all_entries(appwrite_access.tables(request), trail)
    if wanted == "json":  # exact values (null kept apart from ""), for the offline verifier
        return Response(200, trail_json(trail.chain_id, entries),
                        {"content-disposition": f'attachment; filename="{name}-audit.json"'})
    return Response(200, to_csv(entries), {"content-type": "text/csv; charset=utf-8",
                                           "content-disposition": f'attachment; filename="{name}-audit.csv"'})


def _export_checkpoints(request: Request, trail: AuditTrail, name: str) -> Response:
    found = stored_checkpoints(appwrite_access.tables(request), trail)
    return Response(200, checkpoints_json(trail.chain_id, found),
                    {"content-disposition": f'attachment; filename="{name}-audit-checkpoints.json"'})


def list_entries(request: Request) -> Any:
    return _list(request, _tenant_trail(request))


def verify(request: Request) -> Any:
    return verify_trail(appwrite_access.tables(request), _tenant_trail(request)).to_dict()


def export(request: Request) -> Response:
    return _export(request, _tenant_trail(request), current(request).tenant_id or "tenant")


def list_platform(request: Request) -> Any:
    return _list(request, AuditTrail.platform())


def verify_platform(request: Request) -> Any:
    return verify_trail(appwrite_access.tables(request), AuditTrail.platform()).to_dict()


def export_platform(request: Request) -> Response:
    return _export(request, AuditTrail.platform(), "platform")


def export_checkpoints(request: Request) -> Response:
    return _export_checkpoints(request, _tenant_trail(request), current(request).tenant_id or "tenant")


def export_platform_checkpoints(request: Request) -> Response:
    return _export_checkpoints(request, AuditTrail.platform(), "platform")


def public_key(request: Request) -> Any:
    """The keys checkpoints are signed with (raw Ed25519, base64): the current one, then rotated ones."""
    keys = load_public_keys()
    return {"algorithm": ALGORITHM, "encoding": "base64 of the raw 32-byte public key",
            "configured": keys.current is not None, "keys": keys.published()}
