"""``SandboxPayments``: a gateway that lives inside the platform, for development and tests.

Charges are fake but shaped like real ones (a BR Code PIX payload with its QR image, a boleto line, a
checkout URL). Its webhooks are signed with the tenant's own random ``webhook_secret`` and are accepted
only where simulation is allowed (``availability``): a development/test deployment and a tenant that
did not turn ``allow_simulation`` off. ``POST /simulate-payment`` (``simulate.py``) plays the gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bigtech.payments import ChargeRequest, Instructions, PaymentEvent, PaymentKind, PaymentMethod, PaymentPlugin
from bigtech.payments.models import strict_cents

from . import availability, signing, simulate
from .brcode import pix_payload
from .qr import qr_png_base64

SANDBOX_HOST = "https://sandbox.bigtech.local"
CURRENCY = "BRL"
EVENT_KINDS = {
    "charge.paid": PaymentKind.CONFIRMED,
    "charge.failed": PaymentKind.FAILED,
    "charge.refunded": PaymentKind.REFUNDED,
    "charge.chargeback": PaymentKind.CHARGEBACK,
}
OUTCOMES = {"paid": "charge.paid", "failed": "charge.failed", "refunded": "charge.refunded",
            "chargeback": "charge.chargeback"}


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
            instructions.pix_qr_code_base64 = qr_png_base64(instructions.pix_payload)
            instructions.expires_at = expires
        elif method is PaymentMethod.BOLETO:
            instructions.boleto_url = f"{SANDBOX_HOST}/boleto/{order.id}"
            instructions.boleto_line = boleto_line(order.id, order.amount_cents)
            instructions.expires_at = expires
        else:
            instructions.checkout_url = f"{SANDBOX_HOST}/checkout/{order.id}"
        return instructions

    # -- webhooks ---------------------------------------------------------------------------------

    @staticmethod
    def secret(config: Mapping[str, Any]) -> str | None:
        """The tenant's random signing key (``None`` when it has none: every webhook is then refused)."""
        value = config.get("webhook_secret")
        return value if isinstance(value, str) and len(value) >= signing.MIN_SECRET_LENGTH else None

    def verify_webhook(self, tenant_id: str, headers: Mapping[str, str], raw_body: bytes,
                       config: dict[str, Any]) -> bool:
        # Every sandbox webhook is a simulated payment: none is accepted where simulation is off.
        if not availability.environment_allows_simulation() or not availability.tenant_allows_simulation(config):
            return False
        tolerance = int(config.get("signature_tolerance_seconds", 3600))
        return signing.verify(self.secret(config), headers.get(signing.SIGNATURE_HEADER), raw_body, tolerance)

    def parse_webhook(self, payload: dict[str, Any], config: dict[str, Any]) -> PaymentEvent:
        name = str(payload.get("type") or "")
        data = raw if isinstance(raw := payload.get("data"), dict) else {}
        currency = data.get("currency")
        return PaymentEvent(
            gateway=self.id,
            event_id=str(payload.get("id") or f"{name}:{data.get('order_id')}"),
            gateway_event=name or "unknown",
            kind=EVENT_KINDS.get(name),
            order_id=str(data["order_id"]) if data.get("order_id") else None,
            gateway_charge_id=data.get("charge_id"),
            amount_cents=strict_cents(data.get("amount_cents")),
            currency=currency if isinstance(currency, str) else None,
            method=data.get("method"),
            occurred_at=payload.get("created_at"),
        )

    def webhook_payload(self, order_id: str, order: Mapping[str, Any], outcome: str,
                        event_id: str | None = None) -> dict[str, Any]:
        """What the sandbox "gateway" sends for ``order``: it pays exactly the order's amount, in BRL."""
        return {
            "id": event_id or f"sbx_evt_{uuid.uuid4().hex}",
            "type": OUTCOMES[outcome],
            "created_at": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "data": {"order_id": order_id, "charge_id": charge_id(order_id),
                     "amount_cents": order.get("amount_cents"), "currency": CURRENCY,
                     "method": order.get("method")},
        }

    # -- POST /simulate-payment -------------------------------------------------------------------

    def simulate_payment(self, request: Any) -> Any:
        return simulate.simulate_payment(self, request)


__all__ = ["SandboxPayments"]
