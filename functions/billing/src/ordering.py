"""Buying a package as a service: ``place_order(command, gateway) -> OrderOutcome``.

No HTTP and no SDK here (``orders.create`` is the HTTP adapter; ``orders.AppwriteOrderGateway`` does the
outside world with the SDK; the unit tests use an in-memory gateway). The steps, and why in that order,
are in ``orders.py``'s module doc: claim the key → package and payment plugin → commit the ``pending``
order with its audit entry and event → ask the gateway for the charge → store the charge (or its
failure) on the order with the idempotent answer, in one unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from bigtech import idempotency
from bigtech.audited import Actor, Event
from bigtech.payments import Instructions
from bigtech.plugin_loader.state import TenantPlugin
from bigtech.plugins import ExecuteRequest, PluginResult
from bigtech.uow import UnitOfWork

from .packages import Package

T = TypeVar("T")
TABLE = "orders"
GATEWAY_FAILED_MESSAGE = "The payment gateway could not create the charge."


@dataclass(frozen=True)
class Payer:
    name: str
    email: str | None
    document: str | None
    ip: str | None


@dataclass(frozen=True)
class OrderCommand:
    tenant_id: str
    database_id: str
    actor: Actor
    key: str
    request_hash: str
    package_id: str
    method: str
    card_token: str | None = None
    payer_document: str | None = None

    @property
    def user_id(self) -> str:
        return self.actor.user_id

    @property
    def scope(self) -> str:
        return f"orders:{self.user_id}"


@dataclass(frozen=True)
class OrderOutcome:
    status: int
    body: Any
    replayed: bool = False


class OrderGateway(Protocol):
    """The outside world of one order (one instance per execution)."""

    def claim(self, database_id: str, scope: str, key: str, fingerprint: str) -> idempotency.Claim | idempotency.Stored:
        ...

    def release_claim(self, claimed: idempotency.Claim) -> None: ...

    def package(self, database_id: str, package_id: str) -> Package: ...

    def payment_plugin(self, database_id: str) -> TenantPlugin: ...

    def commit_created(self, command: OrderCommand, order_id: str, data: dict[str, Any], plugin_id: str,
                       package: Package) -> str:
        """Commit the ``pending`` order with its audit entry and ``order.created``; returns the audit id."""
        ...

    def payer(self, command: OrderCommand) -> Payer: ...

    def create_charge(self, plugin_id: str, request: ExecuteRequest) -> PluginResult: ...

    def order_row(self, database_id: str, order_id: str) -> tuple[dict[str, Any], str | None]:
        """The order's stored data and its ``$createdAt``."""
        ...

    def transact(self, build: Callable[[UnitOfWork], T]) -> T: ...

    def log(self, message: str) -> None: ...


def place_order(command: OrderCommand, gateway: OrderGateway,
                view: Callable[[str, dict[str, Any], str | None, str | None], dict[str, Any]]) -> OrderOutcome:
    """Create the order and its charge; a replayed key gives the first answer and creates nothing."""
    claimed = gateway.claim(command.database_id, command.scope, command.key, command.request_hash)
    if isinstance(claimed, idempotency.Stored):
        return OrderOutcome(claimed.status, claimed.body, replayed=True)
    order_id = idempotency.derived_id("o", command.scope, command.key)
    try:
        package = gateway.package(command.database_id, command.package_id)
        plugin = gateway.payment_plugin(command.database_id)
        data = {"user_id": command.user_id, "package_id": package.id, "credits": package.credits,
                "amount_cents": package.price_cents, "method": command.method, "status": "pending",
                "gateway": plugin.plugin_id, "idempotency_key": idempotency.row_id(command.scope, command.key)}
        order_audit_id = gateway.commit_created(command, order_id, data, plugin.plugin_id, package)
    except BaseException:
        gateway.release_claim(claimed)
        raise
    payer = gateway.payer(command)
    charge = ExecuteRequest(
        tenant_id=command.tenant_id, request_id=order_id, config=plugin.full_config(command.tenant_id),
        input={"action": "create_charge",
               "order": {"id": order_id, "tenant_id": command.tenant_id, "package_id": package.id,
                         "description": package.name, "credits": package.credits,
                         "amount_cents": package.price_cents},
               "payer": {"user_id": command.user_id, "name": payer.name, "email": payer.email,
                         "document": payer.document, "ip": payer.ip},
               "method": command.method, "card_token": command.card_token})
    result = gateway.create_charge(plugin.plugin_id, charge)
    return settle_charge(gateway, command.database_id, claimed, order_id, result, order_audit_id, view)


def created_event(command: OrderCommand, order_id: str, package: Package, plugin_id: str) -> Event:
    return Event("order.created", command.tenant_id, {
        "order_id": order_id, "user_id": command.user_id, "package_id": package.id, "credits": package.credits,
        "amount_cents": package.price_cents, "method": command.method, "gateway": plugin_id})


def settle_charge(gateway: OrderGateway, database_id: str, claimed: idempotency.Claim, order_id: str,
                  result: PluginResult, order_audit_id: str,
                  view: Callable[[str, dict[str, Any], str | None, str | None], dict[str, Any]]) -> OrderOutcome:
    """Store the charge (or its failure) on the order together with the idempotent answer."""
    if result.status.value == "ok" and result.data:
        instructions = Instructions.model_validate(result.data)
        changes = {"gateway_order_id": instructions.gateway_order_id,
                   "gateway_charge_id": instructions.gateway_charge_id,
                   "instructions": json.dumps(instructions.to_json(), separators=(",", ":"))}
        status_code = 201
    else:
        error = result.first_error
        code = error.code if error else "payment_gateway_failed"
        message = error.message if error else GATEWAY_FAILED_MESSAGE
        gateway.log(f"billing: order {order_id} charge failed: {result.status.value} {code}")
        changes = {"status": "failed",
                   "instructions": json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":"))}
        status_code = 502

    def build(unit: UnitOfWork) -> dict[str, Any]:
        stored, created_at = gateway.order_row(database_id, order_id)
        update = dict(changes)
        if status_code == 502 and stored.get("status") != "pending":
            update.pop("status")  # a webhook already moved it on: never step back
        unit.update(database_id, TABLE, order_id, update)
        shown = view(order_id, {**stored, **update}, created_at, None)
        if status_code == 201:
            body: dict[str, Any] = {"order": shown, "payment": shown["payment"], "audit_id": order_audit_id}
        else:
            body = {"error": {"code": "payment_gateway_failed", "message": GATEWAY_FAILED_MESSAGE,
                              "details": [{"field": "order", "message": f"order {order_id} failed", "value": shown},
                                          {"field": "gateway_error", "message": str((shown["error"] or {}).get(
                                              "message") or GATEWAY_FAILED_MESSAGE), "value": shown["error"]}]}}
        idempotency.stage_complete(unit, claimed, status_code, body)
        return body

    return OrderOutcome(status_code, gateway.transact(build))


__all__ = ["OrderCommand", "OrderGateway", "OrderOutcome", "Payer", "created_event", "place_order", "settle_charge"]
