"""Key management for owners/admins (``/keys``), called through executions like every tenant route.

Every change is one transaction: the ``api_keys`` row (core database) + the tenant's audit entry + an
``apikey.created|updated|rotated|revoked`` event in the tenant's outbox. The secret appears only in the
answer to ``POST /keys`` and ``POST /keys/{id}/rotate``; audit entries and events carry the prefix.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, Field

from bigtech import appwrite_access
from bigtech.audit import AuditTrail
from bigtech.audited import Actor, Event, commit_change
from bigtech.credits import SERVICE_WALLET, ensure_wallet
from bigtech.errors import NotFound, Unprocessable
from bigtech.http import Request, created
from bigtech.identity import Identity, current
from bigtech.pagination import ID_PATTERN, PageQuery, unpaged
from bigtech.uow import UnitOfWork

from . import keys
from .keys import ApiKey
from .models import CreateKey, UpdateKey
from .plugin import tenant_config

MAX_KEYS_LISTED = 100


class KeyPath(BaseModel):
    key_id: str = Field(pattern=ID_PATTERN)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _limits(config: dict[str, Any], tier: str | None, per_minute: int | None,
            per_day: int | None) -> tuple[str, int, int]:
    tiers = config.get("tiers") or {}
    name = tier or config.get("default_tier") or "standard"
    if name not in tiers:
        raise Unprocessable.field("tier", f"unknown tier; this tenant has {sorted(tiers)}")
    defaults = tiers[name]
    return name, per_minute or int(defaults["rate_limit_per_minute"]), per_day or int(defaults["rate_limit_per_day"])


def _load(tables: TablesDB, identity: Identity, key_id: str) -> ApiKey:
    key_id = KeyPath.model_validate({"key_id": key_id}).key_id
    try:
        found = ApiKey.from_row(keys.load(tables, key_id))
    except AppwriteException as error:
        if error.code == 404:
            raise NotFound("API key not found.", code="api_key_not_found") from None
        raise
    if found.tenant_id != identity.tenant_id:  # another tenant's key does not exist here
        raise NotFound("API key not found.", code="api_key_not_found")
    return found


def _commit(tables: TablesDB, identity: Identity, action: str, key_id: str, details: dict[str, Any],
            stage: Any, event: str) -> str:
    entry, _ = commit_change(
        tables, AuditTrail.tenant(identity.database_id), Actor.of(identity), action=action,
        resource=("api_key", key_id), details=details, stage=stage,
        events=[Event(event, identity.tenant_id or "", {"api_key_id": key_id, **details})])
    return entry.id


def _default_environment() -> str:
    """``bt_live_`` in production (``BIGTECH_ENV`` unset), ``bt_test_`` in development and test stacks."""
    return "live" if (os.environ.get("BIGTECH_ENV") or "production").strip().lower() == "production" else "test"


def create_key(request: Request) -> Any:
    body = request.model(CreateKey)
    identity = current(request)
    tables = appwrite_access.tables(request)
    config = tenant_config(tables, identity.database_id)
    tier, per_minute, per_day = _limits(config, body.tier, body.rate_limit_per_minute, body.rate_limit_per_day)
    environment = body.environment or _default_environment()
    raw = keys.new_secret(environment)
    key_id = ID.unique()
    expires = body.expires_at.isoformat(timespec="milliseconds") if body.expires_at else None
    data = keys.row_data(key_id, identity.tenant_id or "", body.name, raw, scopes=body.scopes,
                         ip_allowlist=body.ip_allowlist or [], environment=environment, tier=tier,
                         per_minute=per_minute, per_day=per_day, wallet_id=SERVICE_WALLET,
                         created_by=identity.user_id, expires_at=expires)
    webhook_secret = keys.new_webhook_secret()
    data["webhook_secret"] = keys.seal_webhook_secret(key_id, webhook_secret)
    ensure_wallet(tables, identity.database_id, SERVICE_WALLET)

    row_id = keys.row_id_for(data["key_hash"])

    def stage(unit: UnitOfWork) -> None:
        unit.create(keys.DATABASE, keys.TABLE, row_id, data)

    details = {"name": body.name, "prefix": data["prefix"], "scopes": body.scopes, "environment": environment,
               "tier": tier, "rate_limit_per_minute": per_minute, "rate_limit_per_day": per_day,
               "ip_allowlist": body.ip_allowlist or [], "expires_at": expires}
    audit_id = _commit(tables, identity, "apikeys.create", key_id, details, stage, "apikey.created")
    stored = ApiKey.from_row(tables.get_row(keys.DATABASE, keys.TABLE, row_id))
    return created({"key": stored.to_public(), "secret": raw, "webhook_secret": webhook_secret, "audit_id": audit_id,
                    "warning": "Store the secret and the webhook secret now: they are shown only once."})


def list_keys(request: Request) -> Any:
    identity = current(request)
    tables = appwrite_access.tables(request)
    rows = tables.list_rows(keys.DATABASE, keys.TABLE, [
        Query.equal("tenant_id", [identity.tenant_id or ""]), Query.order_desc("$createdAt"),
        Query.limit(MAX_KEYS_LISTED)], total=False).rows
    return unpaged([ApiKey.from_row(row).to_public() for row in rows], request.query_model(PageQuery))


def update_key(request: Request, key_id: str) -> Any:
    body = request.model(UpdateKey)
    identity = current(request)
    tables = appwrite_access.tables(request)
    found = _load(tables, identity, key_id)
    sent = body.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in sent and body.name:
        changes["client_name"] = body.name
    if "scopes" in sent and body.scopes:
        changes["scopes"] = keys.json.dumps(body.scopes)
    if "ip_allowlist" in sent:
        changes["ip_allowlist"] = keys.json.dumps(body.ip_allowlist or [])
    if "expires_at" in sent:
        changes["expires_at"] = body.expires_at.isoformat(timespec="milliseconds") if body.expires_at else None
    if sent & {"tier", "rate_limit_per_minute", "rate_limit_per_day"}:
        config = tenant_config(tables, identity.database_id)
        tier, per_minute, per_day = _limits(
            config, body.tier or found.tier,
            body.rate_limit_per_minute if "rate_limit_per_minute" in sent else None,
            body.rate_limit_per_day if "rate_limit_per_day" in sent else None)
        if "tier" not in sent:  # a limit changed alone keeps the other one as it was
            per_minute = body.rate_limit_per_minute or found.rate_limit_per_minute
            per_day = body.rate_limit_per_day or found.rate_limit_per_day
        changes.update({"tier": tier, "rate_limit_per_minute": per_minute, "rate_limit_per_day": per_day})
    if not changes:
        raise Unprocessable("Nothing to change.", code="nothing_to_change")

    def stage(unit: UnitOfWork) -> None:
        unit.update(keys.DATABASE, keys.TABLE, found.row_id, changes)

    details = {"prefix": found.prefix, "changes": {k.replace("client_name", "name"): v for k, v in changes.items()}}
    audit_id = _commit(tables, identity, "apikeys.update", found.id, details, stage, "apikey.updated")
    stored = ApiKey.from_row(tables.get_row(keys.DATABASE, keys.TABLE, found.row_id))
    return {"key": stored.to_public(), "audit_id": audit_id}


def rotate_key(request: Request, key_id: str) -> Any:
    """A new secret for the same key (id, scopes, limits, usage): the old secret stops working at once."""
    identity = current(request)
    tables = appwrite_access.tables(request)
    found = _load(tables, identity, key_id)
    if found.revoked:
        raise NotFound("API key not found.", code="api_key_revoked")
    raw = keys.new_secret(found.environment)
    webhook_secret = keys.new_webhook_secret()
    changes = {"key_hash": keys.hash_secret(raw), "prefix": keys.display_prefix(raw), "rotated_at": _now(),
               "webhook_secret": keys.seal_webhook_secret(found.id, webhook_secret)}

    moved_to: list[str] = []

    def stage(unit: UnitOfWork) -> None:  # the key moves to the new secret's row: the old one names nothing
        row = tables.get_row(keys.DATABASE, keys.TABLE, found.row_id)  # fresh: this minute's count moves too
        new_id, data = keys.moved(row, changes)
        unit.delete(keys.DATABASE, keys.TABLE, found.row_id)
        unit.create(keys.DATABASE, keys.TABLE, new_id, data)
        moved_to[:] = [new_id]

    details = {"old_prefix": found.prefix, "prefix": changes["prefix"], "webhook_secret": "rotated"}
    audit_id = _commit(tables, identity, "apikeys.rotate", found.id, details, stage, "apikey.rotated")
    stored = ApiKey.from_row(tables.get_row(keys.DATABASE, keys.TABLE, moved_to[0]))
    return {"key": stored.to_public(), "secret": raw, "webhook_secret": webhook_secret, "audit_id": audit_id,
            "warning": "Store the secret and the webhook secret now: they are shown only once."}


def revoke_key(request: Request, key_id: str) -> Any:
    """Revoked at once and for good (the next request with it is 401); revoking twice changes nothing."""
    identity = current(request)
    tables = appwrite_access.tables(request)
    found = _load(tables, identity, key_id)
    if found.revoked:
        return {"key": found.to_public(), "audit_id": None}
    changes = {"revoked": True, "revoked_at": _now()}

    def stage(unit: UnitOfWork) -> None:
        unit.update(keys.DATABASE, keys.TABLE, found.row_id, changes)

    audit_id = _commit(tables, identity, "apikeys.revoke", found.id, {"prefix": found.prefix}, stage,
                       "apikey.revoked")
    stored = ApiKey.from_row(tables.get_row(keys.DATABASE, keys.TABLE, found.row_id))
    return {"key": stored.to_public(), "audit_id": audit_id}
