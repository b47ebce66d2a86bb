"""``PagarmePayments``: orders through Pagar.me v5 and its signed webhooks turned into ``payment.*``.

Credits on ``order.paid``/``charge.paid`` (both arrive for one payment: crediting is keyed by our order,
so the second changes nothing) and on ``charge.overpaid`` (paid more than the charge: the package is
credited once, never more); ``charge.underpaid`` is a confirmation whose paid amount is short, so billing
sends the order to review and credits nothing. The amount compared is the charge's ``paid_amount``
(a ``paid`` charge without it was paid in full: its ``amount``). Reversed on ``charge.refunded`` and
``charge.chargedback``; ``charge.partial_canceled`` reverses only the share given back
(``canceled_amount``). Charge statuses are pending, paid, processing, canceled, failed, underpaid,
overpaid and chargedback (a refunded charge is ``canceled``).
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
from bigtech.payments.models import strict_cents

from .client import PagarmeClient, order_body

EVENT_KINDS: dict[str, PaymentKind] = {
    "order.paid": PaymentKind.CONFIRMED,
    "charge.paid": PaymentKind.CONFIRMED,
    "charge.overpaid": PaymentKind.CONFIRMED,
    "charge.underpaid": PaymentKind.CONFIRMED,  # paid_amount < amount: billing reviews, credits nothing
    "order.payment_failed": PaymentKind.FAILED,
    "charge.payment_failed": PaymentKind.FAILED,
    "order.canceled": PaymentKind.FAILED,
    "charge.refunded": PaymentKind.REFUNDED,
    "charge.partial_canceled": PaymentKind.REFUNDED,  # partial: only the canceled share
    "charge.chargedback": PaymentKind.CHARGEBACK,
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def paid_cents(name: str, charge: dict[str, Any], order: dict[str, Any]) -> int | None:
    """What the payer paid, as Pagar.me reports it (``None`` when it does not say: billing reviews)."""
    if name.startswith("charge."):
        paid = strict_cents(charge.get("paid_amount"))
        if paid is None and name == "charge.paid":
            paid = strict_cents(charge.get("amount"))  # status paid = paid in full
        return paid
    charges = [_dict(c) for c in order.get("charges") or []]
    amounts = [strict_cents(c.get("paid_amount")) for c in charges]
    if charges and all(a is not None for a in amounts):
        return sum(a for a in amounts if a is not None)
    return strict_cents(order.get("amount")) if name == "order.paid" else None


class PagarmePayments(PaymentPlugin):
    manifest_path = Path(__file__).resolve().parent.parent / "plugin.json"

    def __init__(self, *args: Any, jwks: JwksCache = DEFAULT_CACHE, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.jwks = jwks

    def create_charge(self, request: ChargeRequest, config: dict[str, Any]) -> Instructions:
        body = order_body(request.order, request.payer, request.method, config, card_token=request.card_token)
        with PagarmeClient(config, self.transport) as pagarme:
            created = pagarme.create_order(body, idempotency_key=request.order.id)
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
        currency = charge.get("currency") or order.get("currency")
        refunded = strict_cents(charge.get("canceled_amount"))
        if refunded is None and name == "charge.refunded":
            refunded = strict_cents(charge.get("amount"))
        return PaymentEvent(
            gateway=self.id,
            event_id=str(payload.get("id") or f"{name}:{data.get('id')}"),
            gateway_event=name or "unknown",
            kind=EVENT_KINDS.get(name),
            order_id=str(order_id) if order_id else None,
            gateway_charge_id=charge.get("id"),
            amount_cents=paid_cents(name, charge, order),
            currency=currency if isinstance(currency, str) else None,
            accepts_overpayment=name == "charge.overpaid",
            partial=name == "charge.partial_canceled",
            refunded_cents=refunded,
            method=charge.get("payment_method"),
            occurred_at=payload.get("created_at"),
        )


__all__ = ["PagarmePayments"]
