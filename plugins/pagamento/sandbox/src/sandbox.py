"""``SandboxPayments``: a gateway that lives inside the platform, for development and tests.

Charges are fake but shaped like real ones. ``POST /simulate-payment`` plays the gateway: it signs a
webhook exactly as a gateway would and sends it through Appwrite to this function's own
``/webhook/{tenant_id}``, so the whole purchase path (verification, dedupe, outbox, crediting) runs.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, ConfigDict, Field

from bigtech.appwrite_access import key_client
from bigtech.errors import Conflict, Forbidden, NotFound, Unprocessable
from bigtech.http import Request, json_response
from bigtech.payments import ChargeRequest, Instructions, PaymentEvent, PaymentKind, PaymentMethod, PaymentPlugin
from bigtech.payments.tenant_config import load_plugin_config
from bigtech.payments.webhooks import find_order
from bigtech.settings import load_settings
from bigtech.tenancy import valid_tenant_id

from . import signing
from .brcode import pix_payload

# A 1×1 transparent PNG: the sandbox's stand-in for a QR image (the payload above is the real data).
PLACEHOLDER_QR_PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)).decode("ascii")
SANDBOX_HOST = "https://sandbox.bigtech.local"
EVENT_KINDS = {
    "charge.paid": PaymentKind.CONFIRMED,
    "charge.failed": PaymentKind.FAILED,
    "charge.refunded": PaymentKind.REFUNDED,
    "charge.chargeback": PaymentKind.CHARGEBACK,
}
OUTCOMES = {"paid": "charge.paid", "failed": "charge.failed", "refunded": "charge.refunded",
            "chargeback": "charge.chargeback"}


class SimulateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1, max_length=36)
    tenant_id: str | None = Field(default=None, max_length=64)
    outcome: Literal["paid", "failed", "refunded", "chargeback"] = "paid"
    event_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


def charge_id(order_id: str) -> str:
    return f"sbx_ch_{order_id}"


def boleto_line(order_id: str, amount_cents: int) -> str:
    digits = "".join(str(ord(ch) % 10) for ch in order_id).ljust(20, "0")[:20]
    return f"00190.00009 {digits[:5]}.{digits[5:11]} {digits[11:16]}.{digits[16:20]}00 1 {amount_cents:010d}"


class SandboxPayments(PaymentPlugin):
    manifest_path = Path(__file__).resolve().parent.parent / "plugin.json"

    # -- charges ----------------------------------------------------------------------------------

    def create_charge(self, request: ChargeRequest, config: dict[str, Any]) -> Instructions:
        order, method = request.order, request.method
        instructions = Instructions(gateway=self.id, method=method, gateway_order_id=f"sbx_or_{order.id}",
                                    gateway_charge_id=charge_id(order.id),
                                    gateway_customer_id=f"sbx_cus_{request.payer.user_id}")
        expires = (datetime.now(UTC) + timedelta(days=1)).replace(microsecond=0).isoformat()
        if method is PaymentMethod.PIX:
            instructions.pix_payload = pix_payload("sandbox@bigtech.local", order.amount_cents, order.id)
            instructions.pix_qr_code_base64 = PLACEHOLDER_QR_PNG
            instructions.expires_at = expires
        elif method is PaymentMethod.BOLETO:
            instructions.boleto_url = f"{SANDBOX_HOST}/boleto/{order.id}"
            instructions.boleto_line = boleto_line(order.id, order.amount_cents)
            instructions.expires_at = expires
        else:
            instructions.checkout_url = f"{SANDBOX_HOST}/checkout/{order.id}"
        return instructions

    # -- webhooks ---------------------------------------------------------------------------------

    def secret(self, tenant_id: str, config: dict[str, Any]) -> str:
        return str(config.get("webhook_secret") or signing.derived_secret(tenant_id, load_settings().data_key))

    def verify_webhook(self, tenant_id: str, headers: Mapping[str, str], raw_body: bytes,
                       config: dict[str, Any]) -> bool:
        tolerance = int(config.get("signature_tolerance_seconds", 3600))
        return signing.verify(self.secret(tenant_id, config), headers.get(signing.SIGNATURE_HEADER), raw_body,
                              tolerance)

    def parse_webhook(self, payload: dict[str, Any], config: dict[str, Any]) -> PaymentEvent:
        name = str(payload.get("type") or "")
        data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
        amount = data.get("amount_cents")
        return PaymentEvent(
            gateway=self.id,
            event_id=str(payload.get("id") or f"{name}:{data.get('order_id')}"),
            gateway_event=name or "unknown",
            kind=EVENT_KINDS.get(name),
            order_id=str(data["order_id"]) if data.get("order_id") else None,
            gateway_charge_id=data.get("charge_id"),
            amount_cents=amount if isinstance(amount, int) and not isinstance(amount, bool) else None,
            method=data.get("method"),
            occurred_at=payload.get("created_at"),
        )

    def webhook_payload(self, order_id: str, order: Mapping[str, Any], outcome: str,
                        event_id: str | None = None) -> dict[str, Any]:
        return {
            "id": event_id or f"sbx_evt_{uuid.uuid4().hex}",
            "type": OUTCOMES[outcome],
            "created_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "data": {"order_id": order_id, "charge_id": charge_id(order_id),
                     "amount_cents": order.get("amount_cents"), "method": order.get("method")},
        }

    # -- POST /simulate-payment -------------------------------------------------------------------

    def simulate_payment(self, request: Request) -> Any:
        settings = load_settings()
        if settings.environment == "production":
            raise Forbidden("The sandbox gateway cannot simulate payments in production.", code="sandbox_disabled")
        body = request.model(SimulateRequest)
        tenant_id = body.tenant_id or request.header("x-tenant-id")
        if not tenant_id:
            raise Unprocessable.field("tenant_id", "required (or send x-tenant-id)")
        if not valid_tenant_id(tenant_id):
            raise NotFound("Order not found.", code="order_not_found")
        client = key_client(request)
        tables = TablesDB(client)
        order = find_order(tables, tenant_id, body.order_id)
        if order is None:
            raise NotFound("Order not found.", code="order_not_found")
        if request.user_id and order.data.get("user_id") != request.user_id:
            raise NotFound("Order not found.", code="order_not_found")  # a member pays only their own orders
        if order.data.get("gateway") != self.id:
            raise Conflict("This order is not paid through the sandbox gateway.", code="not_a_sandbox_order")
        config = load_plugin_config(tables, tenant_id, self.id)
        if config is None:
            raise Conflict("The sandbox gateway is not enabled for this tenant.", code="plugin_not_enabled")
        config = self.effective_config(config)
        if not config.get("allow_simulation", True):
            raise Forbidden("Simulated payments are turned off for this tenant.", code="simulation_disabled")

        payload = self.webhook_payload(body.order_id, order.data, body.outcome, body.event_id)
        raw = json.dumps(payload, separators=(",", ":"))
        signature = signing.sign(self.secret(tenant_id, config), raw.encode("utf-8"))
        execution = Functions(client).create_execution(
            settings.function_id or self.id, body=raw, xasync=False, path=f"/webhook/{tenant_id}",
            method=ExecutionMethod.POST,
            headers={"content-type": "application/json", signing.SIGNATURE_HEADER: signature},
        )
        status = int(execution.responsestatuscode or 0)
        try:
            answer: Any = json.loads(execution.responsebody or "null")
        except ValueError:
            answer = execution.responsebody
        result = {"order_id": body.order_id, "tenant_id": tenant_id, "outcome": body.outcome,
                  "event_id": payload["id"], "webhook": {"status": status, "body": answer}}
        return json_response(result, 200 if status == 200 else 502)


__all__ = ["SandboxPayments"]
