"""``POST /webhook/{tenant_id}``: verify, normalize, dedupe by the gateway's event id, stage ``payment.*``.

Order of checks (each refusal changes nothing):

1. the tenant must have this plugin enabled (its config holds the token / JWKS URL) — else 401;
2. the delivery must verify (Asaas token, Pagar.me RS256 signature, sandbox HMAC) — else 401;
3. the payload must name an order **of this tenant** paid through **this plugin** — else 200 ``ignored``
   (gateways retry anything but 200, and a delivery we will never use must not jam their queue);
4. one transaction creates the dedupe marker ``processed_events(consumer="webhook:<plugin>", event id)``
   and the outbox event; a redelivery (even concurrent: the marker's row id is deterministic, so the
   losers' commits conflict and their retry sees the marker) answers 200 ``duplicate`` and stages nothing.

Crediting is not done here: CORE billing consumes the ``payment.*`` event (docs/payments.md), so the answer
to the gateway is quick.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .. import uow
from ..bus.dedupe import processed_row_id
from ..errors import BadRequest, Unauthorized
from ..outbox_writer import stage_event
from ..schema.tenant import tenant_database_id
from ..tenancy import valid_tenant_id
from .base import PaymentPlugin
from .models import PaymentEvent
from .tenant_config import load_plugin_config

ORDERS_TABLE = "orders"
PROCESSED_TABLE = "processed_events"
EVENT_ID_COLUMN_SIZE = 64

ConfigLoader = Callable[[TablesDB, str, str], "dict[str, Any] | None"]


def consumer_name(plugin_id: str) -> str:
    return f"webhook:{plugin_id}"


def stored_event_id(event_id: str) -> str:
    """The gateway id as the ``processed_events.event_id`` column holds it (long ids are hashed)."""
    if len(event_id) <= EVENT_ID_COLUMN_SIZE:
        return event_id
    return hashlib.sha256(event_id.encode()).hexdigest()


@dataclass(frozen=True)
class WebhookOutcome:
    outcome: str  # accepted | duplicate | ignored
    event_id: str | None = None
    event_type: str | None = None
    order_id: str | None = None
    outbox_event_id: str | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"received": True, "outcome": self.outcome, "duplicate": self.outcome == "duplicate"}
        for name in ("event_id", "event_type", "order_id", "outbox_event_id", "reason"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


def unauthorized() -> Unauthorized:
    # One answer for every refusal: a prober learns nothing about which check failed.
    return Unauthorized("The webhook could not be authenticated.", code="invalid_webhook")


def find_order(tables: TablesDB, tenant_id: str, order_id: str) -> Any | None:
    try:
        return tables.get_row(tenant_database_id(tenant_id), ORDERS_TABLE, order_id)
    except AppwriteException as error:
        if error.code in (404, 400):  # unknown row, or an id Appwrite cannot even hold
            return None
        raise


def receive(plugin: PaymentPlugin, tables: TablesDB, tenant_id: str, headers: Mapping[str, str], raw_body: bytes,
            *, load_config: ConfigLoader | None = None) -> WebhookOutcome:
    if not valid_tenant_id(tenant_id):
        raise unauthorized()
    config = (load_config or load_plugin_config)(tables, tenant_id, plugin.id)
    if config is None:
        raise unauthorized()
    config = plugin.effective_config(config)
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if not plugin.verify_webhook(tenant_id, lowered, raw_body, config):
        raise unauthorized()
    try:
        payload = json.loads(raw_body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("The webhook body is not JSON.", code="invalid_json") from None
    if not isinstance(payload, dict):
        raise BadRequest("The webhook body is not a JSON object.", code="invalid_json")
    event = plugin.parse_webhook(payload, config)
    return record(plugin.id, tables, tenant_id, event)


def record(plugin_id: str, tables: TablesDB, tenant_id: str, event: PaymentEvent) -> WebhookOutcome:
    """Steps 3-4 for a verified, parsed event."""
    base = {"event_id": event.event_id, "order_id": event.order_id}
    if event.event_type is None:
        return WebhookOutcome("ignored", reason="not_relevant", **base)
    if not event.order_id:
        return WebhookOutcome("ignored", reason="no_order_reference", **base)
    order = find_order(tables, tenant_id, event.order_id)
    if order is None:
        return WebhookOutcome("ignored", reason="unknown_order", **base)
    if order.data.get("gateway") and order.data.get("gateway") != plugin_id:
        return WebhookOutcome("ignored", reason="other_gateway", **base)

    database_id = tenant_database_id(tenant_id)
    consumer = consumer_name(plugin_id)
    column_id = stored_event_id(event.event_id)
    marker_id = processed_row_id(consumer, event.event_id)

    def build(unit: uow.UnitOfWork) -> WebhookOutcome:
        try:
            tables.get_row(database_id, PROCESSED_TABLE, marker_id)
            return WebhookOutcome("duplicate", event_type=event.event_type, **base)
        except AppwriteException as error:
            if error.code != 404:
                raise
        unit.create(database_id, PROCESSED_TABLE, marker_id, {"consumer": consumer, "event_id": column_id})
        envelope = stage_event(unit, event.event_type or "", tenant_id,
                               {**event.event_data(), "user_id": order.data.get("user_id")},
                               actor=f"gateway:{plugin_id}", database_id=database_id)
        return WebhookOutcome("accepted", event_type=event.event_type, outbox_event_id=envelope.id, **base)

    return uow.run(tables, build)


__all__ = ["WebhookOutcome", "consumer_name", "find_order", "receive", "record", "stored_event_id", "unauthorized"]
