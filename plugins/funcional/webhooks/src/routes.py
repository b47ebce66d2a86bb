"""The owners'/admins' routes: endpoints CRUD, secret rotation, test event, delivery log, replays.

The caller is resolved by the ``before`` hook (``bigtech.identity``: membership, role, tenant) and every
action is in ``bigtech.permissions.MATRIX``. Changes are audited (``bigtech.audited``) in the same
transaction as the row they change. Secrets appear in an answer only when made (create, rotate).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.id import ID

from bigtech import outbound
from bigtech.appwrite_access import tables as tables_of
from bigtech.audit.writer import AuditTrail
from bigtech.audited import Actor, commit_change
from bigtech.errors import Conflict, NotFound, Unprocessable
from bigtech.http import Request, created
from bigtech.identity import current

from . import engine, payload, signing
from .models import EndpointCreate, EndpointPatch, EndpointReplay, MessageReplay
from .store import ENDPOINTS, Endpoint, Store, iso, parse_time

TEST_EVENT = "webhook.test"
PAGE_MAX = 100


class Context:
    """What every route needs: the caller, the tenant's store and its plugin config (404 when disabled)."""

    def __init__(self, request: Request) -> None:
        self.identity = current(request)
        self.tenant_id = self.identity.require_tenant().id
        self.tables = tables_of(request)
        config = engine.tenant_config(self.tables, self.tenant_id)
        if config is None:
            raise NotFound("Outgoing webhooks are not enabled for this tenant.", code="plugin_not_enabled")
        self.config = config
        self.store = Store(self.tables, self.tenant_id)
        self.trail = AuditTrail.tenant(self.store.database_id)
        self.actor = Actor.of(self.identity)

    def endpoint(self, endpoint_id: str) -> Endpoint:
        found = self.store.endpoint(endpoint_id) if len(endpoint_id) <= 36 else None
        if found is None:
            raise NotFound("Endpoint not found.", code="endpoint_not_found")
        return found


def checked_url(url: str) -> str:
    try:
        return str(outbound.check_url(url, outbound.OutboundPolicy.from_env()))
    except outbound.OutboundRefused as refused:
        raise Unprocessable("The endpoint URL is not allowed.", code="invalid_url",
                            details=[{"field": "url", "message": f"{refused.reason}: {refused}"}]) from None


def _limit(request: Request) -> int:
    raw = request.query.get("limit") or "50"
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_MAX:
        raise Unprocessable.field("limit", f"an integer from 1 to {PAGE_MAX}")
    return int(raw)


# -- endpoints ----------------------------------------------------------------------------------------


def create_endpoint(request: Request) -> Any:
    ctx = Context(request)
    body = request.model(EndpointCreate)
    url = checked_url(body.url)
    if len(ctx.store.endpoints()) >= int(ctx.config.get("max_endpoints") or 20):
        raise Conflict("This tenant has registered as many endpoints as its config allows.",
                       code="too_many_endpoints")
    endpoint_id = ID.unique()
    secret = signing.new_secret()
    row = {"url": url, "description": body.description, "events": json.dumps(body.events), "enabled": body.enabled,
           "secret": signing.seal(secret, ctx.tenant_id, endpoint_id), "created_by": ctx.identity.user_id}
    commit_change(ctx.tables, ctx.trail, ctx.actor, action="webhooks.create",
                  resource=("webhook_endpoint", endpoint_id),
                  details={"url": url, "events": body.events, "enabled": body.enabled},
                  stage=lambda unit: unit.create(ctx.store.database_id, ENDPOINTS, endpoint_id, row))
    endpoint = ctx.endpoint(endpoint_id)
    return created({"endpoint": endpoint.to_public(), "secret": secret})


def list_endpoints(request: Request) -> Any:
    ctx = Context(request)
    return {"items": [e.to_public() for e in ctx.store.endpoints()], "next_cursor": None}


def read_endpoint(request: Request, endpoint_id: str) -> Any:
    ctx = Context(request)
    return {"endpoint": ctx.endpoint(endpoint_id).to_public()}


def update_endpoint(request: Request, endpoint_id: str) -> Any:
    ctx = Context(request)
    endpoint = ctx.endpoint(endpoint_id)
    body = request.model(EndpointPatch)
    change: dict[str, Any] = {}
    if body.url is not None:
        change["url"] = checked_url(body.url)
    if body.description is not None:
        change["description"] = body.description
    if body.events is not None:
        change["events"] = json.dumps(body.events)
    if body.enabled is not None:
        change["enabled"] = body.enabled
        if body.enabled:  # re-enabling starts a fresh streak
            change.update(disabled_reason=None, failing_since=None)
    if not change:
        raise Unprocessable("Nothing to change.", code="empty_update")
    audited = {k: v for k, v in change.items() if k in ("url", "description", "enabled")}
    if body.events is not None:
        audited["events"] = body.events
    commit_change(ctx.tables, ctx.trail, ctx.actor, action="webhooks.update",
                  resource=("webhook_endpoint", endpoint.id), details=audited,
                  stage=lambda unit: unit.update(ctx.store.database_id, ENDPOINTS, endpoint.id, change))
    return {"endpoint": ctx.endpoint(endpoint.id).to_public()}


def delete_endpoint(request: Request, endpoint_id: str) -> Any:
    ctx = Context(request)
    endpoint = ctx.endpoint(endpoint_id)
    commit_change(ctx.tables, ctx.trail, ctx.actor, action="webhooks.delete",
                  resource=("webhook_endpoint", endpoint.id), details={"url": endpoint.url},
                  stage=lambda unit: unit.delete(ctx.store.database_id, ENDPOINTS, endpoint.id))
    return {"endpoint": {"id": endpoint.id}, "deleted": True}


def rotate_secret(request: Request, endpoint_id: str) -> Any:
    """A new secret now; the previous one keeps signing (second signature) for the configured window."""
    ctx = Context(request)
    endpoint = ctx.endpoint(endpoint_id)
    window = int(ctx.config.get("rotation_window_seconds") or 0)
    secret = signing.new_secret()
    until = datetime.now(UTC) + timedelta(seconds=window)
    current_secret = signing.unseal(endpoint.sealed_secret, ctx.tenant_id, endpoint.id)
    change = {"secret": signing.seal(secret, ctx.tenant_id, endpoint.id),
              "previous_secret": signing.seal(current_secret, ctx.tenant_id, endpoint.id)
              if window and current_secret else None,
              "previous_until": iso(until) if window and current_secret else None}
    commit_change(ctx.tables, ctx.trail, ctx.actor, action="webhooks.rotate_secret",
                  resource=("webhook_endpoint", endpoint.id), details={"window_seconds": window},
                  stage=lambda unit: unit.update(ctx.store.database_id, ENDPOINTS, endpoint.id, change))
    return {"endpoint": ctx.endpoint(endpoint.id).to_public(), "secret": secret,
            "previous_valid_until": change["previous_until"]}


def send_test(request: Request, endpoint_id: str) -> Any:
    """A ``webhook.test`` message to this endpoint only, attempted now; the answer is the attempt."""
    ctx = Context(request)
    endpoint = ctx.endpoint(endpoint_id)
    if not endpoint.enabled:
        raise Conflict("The endpoint is disabled.", code="endpoint_disabled")
    message_id = "msg_" + uuid.uuid4().hex
    now = datetime.now(UTC)
    body = payload.body(TEST_EVENT, now.isoformat(), {"endpoint_id": endpoint.id, "tenant_id": ctx.tenant_id,
                                                      "message": "Test event from Bigtech."})
    ctx.store.create_message(message_id, TEST_EVENT, body, iso(now))
    delivery = ctx.store.create_delivery(endpoint.id, message_id, now)
    report = engine.attempt_now(ctx.store, [delivery], {endpoint.id: endpoint}, ctx.config, trigger="test")
    outcome = report.outcomes[0].to_json() if report.outcomes else None
    return {"message_id": message_id, "attempt": outcome}


# -- delivery log and replays ---------------------------------------------------------------------------


def attempt_json(row: Any) -> dict[str, Any]:
    data = row.data
    return {"id": row.id, "delivery_id": data.get("delivery_id"), "endpoint_id": data.get("endpoint_id"),
            "message_id": data.get("event_id"), "attempt": data.get("attempt"),
            "status_code": data.get("status_code"), "latency_ms": data.get("latency_ms"),
            "response": data.get("response"), "error": data.get("error"), "attempted_at": data.get("attempted_at"),
            "trigger": data.get("trigger")}


def delivery_json(row: Any) -> dict[str, Any]:
    data = row.data
    return {"id": row.id, "endpoint_id": data.get("endpoint_id"), "message_id": data.get("event_id"),
            "status": data.get("status"), "attempts": data.get("attempt"), "next_at": data.get("next_at"),
            "status_code": data.get("status_code"), "error": data.get("error"),
            "last_attempt_at": data.get("last_attempt_at")}


def _page(rows: list[Any], limit: int, render: Any) -> dict[str, Any]:
    return {"items": [render(r) for r in rows], "next_cursor": rows[-1].id if len(rows) == limit else None}


def endpoint_deliveries(request: Request, endpoint_id: str) -> Any:
    """Every attempt to this endpoint, newest first (``?cursor=`` pages on)."""
    ctx = Context(request)
    endpoint = ctx.endpoint(endpoint_id)
    limit = _limit(request)
    rows = ctx.store.attempts(endpoint_id=endpoint.id, limit=limit, cursor=request.query.get("cursor") or None)
    return _page(rows, limit, attempt_json)


def message_deliveries(request: Request, message_id: str) -> Any:
    """A message's deliveries (one per endpoint, with their state) and every attempt made."""
    ctx = Context(request)
    if len(message_id) > 64 or ctx.store.message(message_id) is None:
        raise NotFound("Message not found.", code="message_not_found")
    deliveries = ctx.store.deliveries_of(message_id=message_id)
    attempts = ctx.store.attempts(message_id=message_id, limit=PAGE_MAX)
    return {"message_id": message_id, "deliveries": [delivery_json(r) for r in deliveries],
            "attempts": [attempt_json(r) for r in attempts]}


def _reopen(ctx: Context, rows: list[Any]) -> list[str]:
    moment = datetime.now(UTC)
    now = iso(moment)
    reopened = []
    for row in rows:
        leased = parse_time(row.data.get("claimed_until"))
        if row.data.get("status") == "pending" and leased is not None and leased > moment:
            continue  # being attempted right now
        ctx.store.update_delivery(row.id, {"status": "pending", "step": 0, "next_at": now, "error": None})
        reopened.append(row.id)
    return reopened


def replay_message(request: Request, message_id: str) -> Any:
    """Send one message again (to every endpoint it went to, or ``endpoint_id``), now."""
    ctx = Context(request)
    body = request.model(MessageReplay) if request.body else MessageReplay()
    if len(message_id) > 64 or ctx.store.message(message_id) is None:
        raise NotFound("Message not found.", code="message_not_found")
    rows = [r for r in ctx.store.deliveries_of(message_id=message_id)
            if body.endpoint_id in (None, r.data.get("endpoint_id"))]
    if not rows:
        raise NotFound("This message has no delivery to that endpoint.", code="delivery_not_found")
    reopened = _reopen(ctx, rows)
    commit_change(ctx.tables, ctx.trail, ctx.actor, action="webhooks.replay", resource=("webhook_message", message_id),
                  details={"deliveries": len(reopened), "endpoint_id": body.endpoint_id})
    report = engine.attempt_now(ctx.store, reopened, {}, ctx.config, trigger="replay")
    return {"replayed": len(reopened), "attempts": [o.to_json() for o in report.outcomes]}


def replay_endpoint(request: Request, endpoint_id: str) -> Any:
    """Every message to this endpoint since ``since`` (only the failed ones unless ``only_failed`` is false),
    reopened for the schedule, which sends them in order."""
    ctx = Context(request)
    endpoint = ctx.endpoint(endpoint_id)
    body = request.model(EndpointReplay)
    since = body.since if body.since.tzinfo else body.since.replace(tzinfo=UTC)
    rows, cursor = [], None
    while True:
        page = ctx.store.deliveries_of(endpoint_id=endpoint.id, since=since, cursor=cursor)
        rows.extend(r for r in page if not body.only_failed or r.data.get("status") == "failed")
        if len(page) < 100 or len(rows) >= 10_000:
            break
        cursor = page[-1].id
    reopened = _reopen(ctx, rows)
    commit_change(ctx.tables, ctx.trail, ctx.actor, action="webhooks.replay",
                  resource=("webhook_endpoint", endpoint.id),
                  details={"since": iso(since), "only_failed": body.only_failed, "deliveries": len(reopened)})
    return {"replayed": len(reopened)}
