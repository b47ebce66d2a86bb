"""``POST /simulate-payment`` {order_id, outcome?, event_id?}: the sandbox plays the gateway.

Who may: a signed-in member of the order's tenant who placed the order, or an owner/admin of that
tenant (or a platform admin acting in it). The tenant is resolved like on every route (the member's
tenant; ``x-tenant-id`` only picks among several). Guests get 401; a member of another tenant gets
404, exactly as for an order that does not exist. Only where ``availability`` allows simulation.

The webhook is built and signed with the tenant's own secret, then run **in this execution** through
the very code ``POST /webhook/{tenant_id}`` runs (``bigtech.payments.webhooks.receive``: verification,
dedupe, outbox). It is not sent as a new execution of this function: an Appwrite function instance
serves one request at a time, so a synchronous self-call would wait for itself until the timeout.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users
from pydantic import BaseModel, ConfigDict, Field

from bigtech.appwrite_access import key_client
from bigtech.errors import Conflict, Forbidden, NotFound
from bigtech.http import Request
from bigtech.identity import AppwriteDirectory, Identity, resolve
from bigtech.payments import webhooks
from bigtech.payments.base import PaymentPlugin
from bigtech.payments.tenant_config import load_plugin_config
from bigtech.permissions import PLATFORM_ADMIN

from . import availability, signing

# Read access to orders is what every member has; ownership is checked below.
IDENTITY_ACTION = "orders.read"
MANAGERS = frozenset({"owner", "admin", PLATFORM_ADMIN})


class SimulateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=36)
    outcome: Literal["paid", "failed", "refunded", "chargeback"] = "paid"
    event_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


def order_not_found() -> NotFound:
    return NotFound("Order not found.", code="order_not_found")


def caller(request: Request, tables: TablesDB, client: Any) -> Identity:
    try:
        return resolve(request.headers, IDENTITY_ACTION, AppwriteDirectory(Users(client), tables))
    except Forbidden as error:
        if error.code == "not_a_member":  # another tenant's order: indistinguishable from no order
            raise order_not_found() from None
        raise


def simulate_payment(plugin: Any, request: Request) -> dict[str, Any]:
    if not availability.environment_allows_simulation():
        raise NotFound("Payment simulation exists only in development and test deployments.",
                       code="simulation_unavailable")
    body = request.model(SimulateRequest)
    client = key_client(request)
    tables = TablesDB(client)
    identity = caller(request, tables, client)
    tenant_id = identity.tenant_id
    if not tenant_id:
        raise order_not_found()
    order = webhooks.find_order(tables, tenant_id, body.order_id)
    if order is None:
        raise order_not_found()
    if order.data.get("user_id") != identity.user_id and identity.role not in MANAGERS:
        raise order_not_found()  # a member simulates only their own orders
    if order.data.get("gateway") != plugin.id:
        raise Conflict("This order is not paid through the sandbox gateway.", code="not_a_sandbox_order")
    config = load_plugin_config(tables, tenant_id, plugin.id)
    if config is None:
        raise Conflict("The sandbox gateway is not enabled for this tenant.", code="plugin_not_enabled")
    config = plugin.effective_config(config)
    if not availability.tenant_allows_simulation(config):
        raise Forbidden("Simulated payments are turned off for this tenant.", code="simulation_disabled")
    secret = plugin.secret(config)
    if secret is None:
        raise Conflict("The tenant has no sandbox webhook secret; enable the plugin again to create one.",
                       code="webhook_secret_missing")

    payload = plugin.webhook_payload(body.order_id, order.data, body.outcome, body.event_id)
    raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    headers = {"content-type": "application/json", signing.SIGNATURE_HEADER: signing.sign(secret, raw)}
    outcome = receive_in_process(plugin, tables, tenant_id, headers, raw)
    request.log.log(f"{plugin.id}: simulated {body.outcome} for order {body.order_id} tenant={tenant_id} "
                    f"by {identity.user_id} → {outcome.outcome}")
    return {"order_id": body.order_id, "tenant_id": tenant_id, "outcome": body.outcome, "event_id": payload["id"],
            "webhook": {"status": 200, "body": outcome.to_json()}}


def receive_in_process(plugin: PaymentPlugin, tables: TablesDB, tenant_id: str, headers: dict[str, str],
                       raw: bytes) -> webhooks.WebhookOutcome:
    """Exactly what ``POST /webhook/{tenant_id}`` does with these bytes and headers."""
    return webhooks.receive(plugin, tables, tenant_id, headers, raw)


__all__ = ["SimulateRequest", "simulate_payment"]
