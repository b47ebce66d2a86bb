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

If the gateway refuses, the order is marked ``failed`` (with the plugin's error code) and the answer is
a 502 that the key replays; buy again with a new key. Credits arrive only through the payment webhook
(``crediting.py``), never from this route.

Members see their own orders; owners/admins (and platform admins) see everyone's (filter ``user_id``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, ConfigDict, Field, field_validator

from bigtech import appwrite_access, idempotency, platform_settings, uow
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, Event, commit_change
from bigtech.documents import document_kind
from bigtech.errors import BadRequest, BigtechError, Conflict, NotFound
from bigtech.http import Request, json_response
from bigtech.identity import Identity, current
from bigtech.pagination import ID_PATTERN, PageQuery, created_between, listing, newest_first, paginate
from bigtech.payments import Instructions
from bigtech.plugin_loader import state as plugin_state
from bigtech.plugins import ExecuteRequest, PluginResult, Status, core_calls

from .access import is_manager
from .packages import get_purchasable

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


class GatewayFailed(BigtechError):
    status = 502
    default_code = "payment_gateway_failed"
    default_message = "The payment gateway could not create the charge."


# -- views -------------------------------------------------------------------------------------------

def order_view(row_id: str, data: dict[str, Any], created_at: str | None = None,
               updated_at: str | None = None) -> dict[str, Any]:
    try:
        payment = json.loads(data.get("instructions") or "null")
    except ValueError:
        payment = None
    return {
        "id": row_id, "user_id": data.get("user_id"), "package_id": data.get("package_id"),
        "credits": data.get("credits"), "amount_cents": data.get("amount_cents"), "method": data.get("method"),
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

def create(request: Request) -> Any:
    body = request.model(OrderBody)
    identity = current(request)
    key = idempotency.read_key(request)
    if key is None:
        raise BadRequest("Send an idempotency-key header: buying credits must be safe to retry.",
                         code="idempotency_key_required")
    client = appwrite_access.key_client(request)
    tables = TablesDB(client)
    tenant_id, database_id = identity.tenant_id or "", identity.database_id
    scope = f"orders:{identity.user_id}"
    claimed = idempotency.claim(tables, database_id, scope, key, idempotency.request_hash(body.model_dump()))
    if isinstance(claimed, idempotency.Stored):
        return claimed.response()
    order_id = idempotency.derived_id("o", scope, key)
    try:
        settings, _ = platform_settings.load(tables)
        package = get_purchasable(tables, database_id, body.package_id, settings)
        plugin = payment_plugin(tables, database_id)
        data = {"user_id": identity.user_id, "package_id": package.id, "credits": package.credits,
                "amount_cents": package.price_cents, "method": body.method, "status": "pending",
                "gateway": plugin.plugin_id, "idempotency_key": idempotency.row_id(scope, key)}
        entry, _ = commit_change(
            tables, AuditTrail.tenant(database_id), Actor.of(identity), action="orders.create",
            resource=("order", order_id),
            details={"package_id": package.id, "credits": package.credits, "amount_cents": package.price_cents,
                     "method": body.method, "gateway": plugin.plugin_id},
            stage=lambda unit: unit.create(database_id, TABLE, order_id, data),
            events=[Event("order.created", tenant_id, {
                "order_id": order_id, "user_id": identity.user_id, "package_id": package.id,
                "credits": package.credits, "amount_cents": package.price_cents, "method": body.method,
                "gateway": plugin.plugin_id})],
        )
    except BaseException:
        idempotency.release(tables, claimed)
        raise
    order_audit_id = audit_id(entry)
    user = identity.user()
    charge = ExecuteRequest(
        tenant_id=tenant_id, request_id=order_id, config=plugin.full_config(tenant_id),
        input={"action": "create_charge",
               "order": {"id": order_id, "tenant_id": tenant_id, "package_id": package.id,
                         "description": package.name, "credits": package.credits,
                         "amount_cents": package.price_cents},
               "payer": {"user_id": identity.user_id, "name": user.name or user.email or identity.user_id,
                         "email": user.email or None, "document": body.payer_document,
                         "ip": request.header("x-appwrite-client-ip") or None},
               "method": body.method, "card_token": body.card_token})
    result = create_charge(Functions(client), plugin.plugin_id, charge)
    return finish(tables, database_id, claimed, order_id, data, result, order_audit_id, request.log)


def finish(tables: TablesDB, database_id: str, claimed: idempotency.Claim, order_id: str, data: dict[str, Any],
           result: PluginResult, order_audit_id: str, log: Any) -> Any:
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
        message = error.message if error else "The payment gateway could not create the charge."
        log.log(f"billing: order {order_id} charge failed: {result.status.value} {code}")
        changes = {"status": "failed",
                   "instructions": json.dumps({"error": {"code": code, "message": message}}, separators=(",", ":"))}
        status_code = 502

    def build(unit: uow.UnitOfWork) -> dict[str, Any]:
        current_row = tables.get_row(database_id, TABLE, order_id)
        update = dict(changes)
        if status_code == 502 and current_row.data.get("status") != "pending":
            update.pop("status")  # a webhook already moved it on: never step back
        unit.update(database_id, TABLE, order_id, update)
        merged = {**current_row.data, **update}
        view = order_view(order_id, merged, current_row.createdat or None, None)
        if status_code == 201:
            body: dict[str, Any] = {"order": view, "payment": view["payment"], "audit_id": order_audit_id}
        else:
            body = {"error": {"code": "payment_gateway_failed", "message": GatewayFailed.default_message,
                              "details": {"order": view, "gateway_error": view["error"]}}}
        idempotency.stage_complete(unit, claimed, status_code, body)
        return body

    body = uow.run(tables, build)
    return json_response(body, status_code)


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
    rows = listing(lambda: tables.list_rows(identity.database_id, TABLE, queries, total=False).rows)
    return paginate(rows, query, row_view, lambda row: row.id)


__all__ = ["OrderBody", "create", "list_orders", "read"]
