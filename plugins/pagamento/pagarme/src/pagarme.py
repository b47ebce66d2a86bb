"""``PagarmePayments``: orders through Pagar.me v5 and its signed webhooks turned into ``payment.*``.

Credits on ``order.paid``/``charge.paid`` (both arrive for one payment: crediting is keyed by our order,
so the second changes nothing); reversed on ``charge.refunded``/``charge.chargedback``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bigtech.payments import (
    ChargeRequest,
    GatewayError,
    Instructions,
    PaymentEvent,
    PaymentKind,
    PaymentMethod,
    PaymentPlugin,
)
from bigtech.payments.jwks import DEFAULT_CACHE, DEFAULT_JWKS_URL, SIGNATURE_HEADER, JwksCache, verify_rs256

from .client import PagarmeClient, order_body

EVENT_KINDS: dict[str, PaymentKind] = {
    "order.paid": PaymentKind.CONFIRMED,
    "charge.paid": PaymentKind.CONFIRMED,
    "order.payment_failed": PaymentKind.FAILED,
    "charge.payment_failed": PaymentKind.FAILED,
    "order.canceled": PaymentKind.FAILED,
    "charge.refunded": PaymentKind.REFUNDED,
    "charge.chargedback": PaymentKind.CHARGEBACK,
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class PagarmePayments(PaymentPlugin):
    manifest_path = Path(__file__).resolve().parent.parent / "plugin.json"

    def __init__(self, *args: Any, jwks: JwksCache = DEFAULT_CACHE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jwks = jwks

    def create_charge(self, request: ChargeRequest, config: dict[str, Any]) -> Instructions:
        body = order_body(request.order, request.payer, request.method, config, card_token=request.card_token)
        with PagarmeClient(config, self.transport) as pagarme:
            created = pagarme.create_order(body)
        if created.get("status") == "failed":
            raise GatewayError("Pagar.me refused the payment.", code="gateway_refused")
        charges = created.get("charges") or [{}]
        charge = _dict(charges[0])
        transaction = _dict(charge.get("last_transaction"))
        instructions = Instructions(gateway=self.id, method=request.method, gateway_order_id=created.get("id"),
                                    gateway_charge_id=charge.get("id"),
                                    status=str(created.get("status") or "pending"))
        if request.method is PaymentMethod.PIX:
            instructions.pix_payload = transaction.get("qr_code")
            instructions.pix_qr_code_url = transaction.get("qr_code_url")
            instructions.expires_at = transaction.get("expires_at")
        elif request.method is PaymentMethod.BOLETO:
            instructions.boleto_url = transaction.get("url") or transaction.get("pdf")
            instructions.boleto_line = transaction.get("line")
            instructions.boleto_barcode = transaction.get("barcode")
            instructions.expires_at = transaction.get("due_at")
        else:
            checkouts = created.get("checkouts") or []
            if checkouts:
                instructions.checkout_url = _dict(checkouts[0]).get("payment_url")
        return instructions

    def verify_webhook(self, tenant_id: str, headers: Mapping[str, str], raw_body: bytes,
                       config: dict[str, Any]) -> bool:
        jwks_url = str(config.get("jwks_url") or DEFAULT_JWKS_URL)
        return verify_rs256(headers.get(SIGNATURE_HEADER), raw_body, jwks_url, self.jwks)

    def parse_webhook(self, payload: dict[str, Any], config: dict[str, Any]) -> PaymentEvent:
        name = str(payload.get("type") or "")
        data = _dict(payload.get("data"))
        if name.startswith("charge."):
            order = _dict(data.get("order"))
            charge = data
        else:
            order = data
            charge = _dict((data.get("charges") or [{}])[0])
        metadata = {**_dict(order.get("metadata")), **_dict(data.get("metadata"))}
        order_id = metadata.get("order_id") or order.get("code") or data.get("code")
        amount = data.get("amount")
        return PaymentEvent(
            gateway=self.id,
            event_id=str(payload.get("id") or f"{name}:{data.get('id')}"),
            gateway_event=name or "unknown",
            kind=EVENT_KINDS.get(name),
            order_id=str(order_id) if order_id else None,
            gateway_charge_id=charge.get("id"),
            amount_cents=int(amount) if isinstance(amount, int) and not isinstance(amount, bool) else None,
            method=charge.get("payment_method"),
            occurred_at=payload.get("created_at"),
        )


__all__ = ["PagarmePayments"]
