"""Orders: ``POST /orders`` buys a package through the tenant's payment plugin; ``GET /orders[/{id}]``.

``POST /orders`` {package_id, method: pix|boleto|credit_card, payer_document?, card_token?} with an
``idempotency-key`` (required: buying moves money):

1. claim the key (``bigtech.idempotency``): a retry gets the first answer back and creates nothing;
2. check the package (active, within the platform's purchase limits) and pick the payment plugin
   (the tenant's enabled ``pagamento-*`` plugin with the lowest priority);
3. commit the ``pending`` order with its audit entry and ``order.created`` event **before** calling the
   gateway, so a webhook can never arrive for an order we do not know (the order id is derived from
   the key, and is what the gateway echoes back: Asaas ``externalReference``, Pagar.me ``code``);
4. execute the plugin's ``POST /execute`` (``create_charge``) and store its instructions (PIX copia e
   cola + QR, boleto URL + linha digitável, or a checkout URL) with the stored idempotent answer.

The flow is ``ordering.place_order`` (a service testable without the stack); ``create`` below adapts
HTTP to it and ``AppwriteOrderGateway`` gives it the SDK.

If the gateway refuses, the order is marked ``failed`` (with the plugin's error code) and the answer is
a 502 that the key replays; buy again with a new key. Credits arrive only through the payment webhook
(``crediting.py``), never from this route.

Members see their own orders; owners/admins (and platform admins) see everyone's (filter ``user_id``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bigtech import appwrite_access, idempotency, platform_settings, uow
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, commit_change
from bigtech.documents import document_kind
from bigtech.errors import BadRequest, Conflict, NotFound
from bigtech.http import Request, json_response
from bigtech.identity import Identity, current
from bigtech.pagination import ID_PATTERN, PageQuery, created_between, listing, newest_first, page_of
from bigtech.plugin_loader import state as plugin_state
from bigtech.plugins import ExecuteRequest, PluginResult, Status, core_calls

from .access import is_manager
from .ordering import OrderCommand, Payer, created_event, place_order
from .packages import Package, get_purchasable

T = TypeVar("T")

TABLE = "orders"
Method = Literal["pix", "boleto", "credit_card"]


class OrderBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    package_id: str = Field(pattern=ID_PATTERN)
    method: Method
    payer_document: str | None = Field(None, max_length=32, description="CPF or CNPJ of the payer")
    card_token: str | None = Field(None, min_length=1, max_length=256)

    @field_validator("payer_document")
    @classmethod
    def _document(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if document_kind(value) is None:
            raise ValueError("not a valid CPF or CNPJ")
        return "".join(ch for ch in value if ch.isalnum()).upper()


class OrdersQuery(PageQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    user_id: str | None = Field(None, pattern=ID_PATTERN)
    status: Literal["pending", "paid", "failed", "canceled", "refunded", "chargeback", "partially_refunded",
                    "review"] | None = None
    method: Method | None = None
    since: datetime | None = Field(None, alias="from")
    until: datetime | None = Field(None, alias="to")


# -- views -------------------------------------------------------------------------------------------

def order_view(row_id: str, data: dict[str, Any], created_at: str | None = None,
               updated_at: str | None = None) -> dict[str, Any]:
    try:
        payment = json.loads(data.get("instructions") or "null")
    except ValueError:
        payment = None
    return {
        "id": row_id, "user_id": data.get("user_id"), "package_id": data.get("package_id"),
        "credits": data.get("credits"), "amount_cents": data.get("amount_cents"),
        "currency": "BRL", "method": data.get("method"),
        "status": data.get("status"), "gateway": data.get("gateway"),
        "gateway_order_id": data.get("gateway_order_id"), "gateway_charge_id": data.get("gateway_charge_id"),
        "payment": payment if isinstance(payment, dict) and "error" not in payment else None,
        "error": payment.get("error") if isinstance(payment, dict) else None,
        "paid_at": data.get("paid_at"), "created_at": created_at, "updated_at": updated_at,
        # payment checks: why the order awaits review (e.g. underpaid), what was paid and reversed
        "review_reason": data.get("review_reason"), "paid_cents": data.get("paid_cents"),
        "refunded_cents": data.get("refunded_cents"), "reversed_credits": data.get("reversed_credits"),
    }


def row_view(row: Any) -> dict[str, Any]:
    return order_view(row.id, row.data, row.createdat or None, row.updatedat or None)


# -- the payment plugin ------------------------------------------------------------------------------

def payment_plugin(tables: TablesDB, database_id: str) -> plugin_state.TenantPlugin:
    plugins = plugin_state.load(tables, database_id)
    enabled = sorted((p for p in plugins.values() if p.enabled and p.plugin_id.startswith("pagamento-")),
                     key=lambda p: (p.priority, p.plugin_id))
    if not enabled:
        raise Conflict("No payment plugin is enabled for this tenant.", code="no_payment_plugin")
    return enabled[0]


def create_charge(functions: Functions, plugin_id: str, body: ExecuteRequest) -> PluginResult:
    """Run the plugin's ``POST /execute``; a transport failure is a failed result, not an exception."""
    try:
        raw = body.model_dump_json()
        execution = functions.create_execution(plugin_id, body=raw, xasync=False,
                                               path="/execute", method=ExecutionMethod.POST,
                                               headers=core_calls.headers(plugin_id, "POST", "/execute", raw))
    except AppwriteException as error:
        return PluginResult.error(Status.RETRYABLE, "plugin_unavailable",
                                  f"{plugin_id} could not be executed ({error.code}).")
    status = int(execution.responsestatuscode or 0)
    try:
        result = PluginResult.model_validate_json(execution.responsebody or "")
    except ValueError:
        result = None
    if status != 200 or result is None:
        return PluginResult.error(Status.FAILED, "plugin_unavailable",
                                  f"{plugin_id} answered HTTP {status}.")
    return result


# -- POST /orders --------------------------------------------------------------------------------------

class AppwriteOrderGateway:
    """``ordering.OrderGateway`` over the SDK with this execution's key (built per request)."""

    def __init__(self, request: Request, identity: Identity) -> None:
        client = appwrite_access.key_client(request)
        self.tables = TablesDB(client)
        self.functions = Functions(client)
        self.identity = identity
        self.request = request

    def claim(self, database_id: str, scope: str, key: str, fingerprint: str) -> idempotency.Claim | idempotency.Stored:
        return idempotency.claim(self.tables, database_id, scope, key, fingerprint)

    def release_claim(self, claimed: idempotency.Claim) -> None:
        idempotency.release(self.tables, claimed)

    def package(self, database_id: str, package_id: str) -> Package:
        settings, _ = platform_settings.load(self.tables)
        return get_purchasable(self.tables, database_id, package_id, settings)

    def payment_plugin(self, database_id: str) -> plugin_state.TenantPlugin:
        return payment_plugin(self.tables, database_id)

    def commit_created(self, command: OrderCommand, order_id: str, data: dict[str, Any], plugin_id: str,
                       package: Package) -> str:
        entry, _ = commit_change(
            self.tables, AuditTrail.tenant(command.database_id), command.actor, action="orders.create",
            resource=("order", order_id),
            details={"package_id": package.id, "credits": package.credits, "amount_cents": package.price_cents,
                     "method": command.method, "gateway": plugin_id},
            stage=lambda unit: unit.create(command.database_id, TABLE, order_id, data),
            events=[created_event(command, order_id, package, plugin_id)],
        )
        return audit_id(entry)

    def payer(self, command: OrderCommand) -> Payer:
        user = self.identity.user()
        return Payer(name=user.name or user.email or command.user_id, email=user.email or None,
                     document=command.payer_document, ip=self.request.header("x-appwrite-client-ip") or None)

    def create_charge(self, plugin_id: str, request: ExecuteRequest) -> PluginResult:
        return create_charge(self.functions, plugin_id, request)

    def order_row(self, database_id: str, order_id: str) -> tuple[dict[str, Any], str | None]:
        row = self.tables.get_row(database_id, TABLE, order_id)
        return dict(row.data), row.createdat or None

    def transact(self, build: Callable[[uow.UnitOfWork], T]) -> T:
        return uow.run(self.tables, build)

    def log(self, message: str) -> None:
        self.request.log.log(message)


def create(request: Request) -> Any:
    """The HTTP adapter: body and key → ``OrderCommand`` → ``place_order`` → the answer (or its replay)."""
    body = request.model(OrderBody)
    identity = current(request)
    key = idempotency.read_key(request)
    if key is None:
        raise BadRequest("Send an idempotency-key header: buying credits must be safe to retry.",
                         code="idempotency_key_required")
    command = OrderCommand(tenant_id=identity.tenant_id or "", database_id=identity.database_id,
                           actor=Actor.of(identity), key=key, request_hash=idempotency.request_hash(body.model_dump()),
                           package_id=body.package_id, method=body.method, card_token=body.card_token,
                           payer_document=body.payer_document)
    gateway = AppwriteOrderGateway(request, identity)
    outcome = place_order(command, gateway, order_view)
    if outcome.replayed:
        return idempotency.Stored(outcome.status, outcome.body).response()
    return json_response(outcome.body, outcome.status)


# -- GET /orders, GET /orders/{id} --------------------------------------------------------------------

def _visible_to(identity: Identity, data: dict[str, Any]) -> bool:
    return is_manager(identity) or data.get("user_id") == identity.user_id


def read(request: Request, order_id: str) -> Any:
    identity = current(request)
    tables = appwrite_access.tables(request)
    try:
        row = tables.get_row(identity.database_id, TABLE, order_id)
    except AppwriteException as error:
        if error.code in (400, 404):
            raise NotFound("Order not found.", code="order_not_found") from None
        raise
    if not _visible_to(identity, row.data):
        raise NotFound("Order not found.", code="order_not_found")
    return {"order": row_view(row)}


def list_orders(request: Request) -> Any:
    query = request.query_model(OrdersQuery)
    identity = current(request)
    queries: list[str] = []
    if is_manager(identity):
        if query.user_id:
            queries.append(Query.equal("user_id", query.user_id))
    else:
        queries.append(Query.equal("user_id", identity.user_id))
    if query.status:
        queries.append(Query.equal("status", query.status))
    if query.method:
        queries.append(Query.equal("method", query.method))
    queries += [*created_between(query.since, query.until), *newest_first(query)]
    tables = appwrite_access.tables(request)
    listed = listing(lambda: tables.list_rows(identity.database_id, TABLE, queries, total=query.total))
    return page_of(listed, query, row_view)


__all__ = ["OrderBody", "create", "list_orders", "read"]
