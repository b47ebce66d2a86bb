"""``AsaasPayments``: charges through Asaas v3 and its webhooks turned into ``payment.*`` events.

When credits are granted (``reference/gateways.md`` §3): ``PAYMENT_RECEIVED`` always; for cards also
``PAYMENT_CONFIRMED`` (config ``credit_card_on_confirmed``, default on: the chargeback risk is covered
by the compensating debit). Pix and boleto ``PAYMENT_CONFIRMED`` is ignored: ``RECEIVED`` follows.
Billing credits only when the paid ``value`` (BRL: Asaas charges nothing else) matches the order.

``PAYMENT_OVERDUE`` changes nothing: a PIX QR stays payable after the due date and boletos may accept
late payment, so a later ``PAYMENT_RECEIVED`` still credits. ``PAYMENT_PARTIALLY_REFUNDED`` reverses
only the refunded share: the total refunded is the sum of the payment's ``refunds[].value`` (refunds
not cancelled); when the payload does not say, billing sends the order to review instead of guessing.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from bigtech.payments import ChargeRequest, Instructions, PaymentEvent, PaymentKind, PaymentMethod, PaymentPlugin
from bigtech.payments.models import cents

from .client import AsaasClient, payment_body

TOKEN_HEADER = "asaas-access-token"
CURRENCY = "BRL"  # Asaas charges in reais only
PARTIAL_REFUND = "PAYMENT_PARTIALLY_REFUNDED"
CANCELLED_REFUND_STATUSES = frozenset({"CANCELLED", "FAILED"})


def refunded_total(payment: dict[str, Any]) -> int | None:
    """Cents refunded so far, from ``payment.refunds[]``; ``None`` when the payload does not list them."""
    refunds = payment.get("refunds")
    if not isinstance(refunds, list) or not refunds:
        return None
    total = 0
    for refund in refunds:
        if not isinstance(refund, dict):
            return None
        if str(refund.get("status") or "").upper() in CANCELLED_REFUND_STATUSES:
            continue
        value = cents(refund.get("value"))
        if value is None:
            return None
        total += value
    return total

EVENT_KINDS: dict[str, PaymentKind] = {
    "PAYMENT_RECEIVED": PaymentKind.CONFIRMED,
    "PAYMENT_REFUNDED": PaymentKind.REFUNDED,
    "PAYMENT_PARTIALLY_REFUNDED": PaymentKind.REFUNDED,  # partial: only the refunded share
    "PAYMENT_CHARGEBACK_REQUESTED": PaymentKind.CHARGEBACK,
    "PAYMENT_REPROVED_BY_RISK_ANALYSIS": PaymentKind.FAILED,
    "PAYMENT_CREDIT_CARD_CAPTURE_REFUSED": PaymentKind.FAILED,
    "PAYMENT_DELETED": PaymentKind.FAILED,
}


class AsaasPayments(PaymentPlugin):
    manifest_path = Path(__file__).resolve().parent.parent / "plugin.json"

    def create_charge(self, request: ChargeRequest, config: dict[str, Any], today: date | None = None
                      ) -> Instructions:
        order, method = request.order, request.method
        with AsaasClient(config, self.transport) as asaas:
            customer_id = asaas.customer_for(request.payer, order.tenant_id)
            body = payment_body(order, customer_id, method, int(config.get("due_days", 3)), today or date.today(),
                                request.card_token, request.payer.ip)
            # Asaas has no idempotency keys: a retried create would make a second charge, so look for
            # the one this order may already have (our order id is its externalReference).
            payment = asaas.find_payment(order.id) or asaas.create_payment(body)
            payment_id = str(payment["id"])
            instructions = Instructions(gateway=self.id, method=method, gateway_charge_id=payment_id,
                                        gateway_order_id=payment_id, gateway_customer_id=customer_id,
                                        status=str(payment.get("status") or "PENDING").lower())
            if method is PaymentMethod.PIX:
                qr = asaas.pix_qr_code(payment_id)
                instructions.pix_payload = qr.get("payload")
                instructions.pix_qr_code_base64 = qr.get("encodedImage")
                instructions.expires_at = qr.get("expirationDate")
            elif method is PaymentMethod.BOLETO:
                instructions.boleto_url = payment.get("bankSlipUrl")
                field = asaas.identification_field(payment_id)
                instructions.boleto_line = field.get("identificationField")
                instructions.boleto_barcode = field.get("barCode")
                instructions.expires_at = payment.get("dueDate")
            else:
                instructions.checkout_url = payment.get("invoiceUrl")
        return instructions

    def verify_webhook(self, tenant_id: str, headers: Mapping[str, str], raw_body: bytes,
                       config: dict[str, Any]) -> bool:
        expected = str(config.get("webhook_token") or "")
        received = headers.get(TOKEN_HEADER) or ""
        if not expected or not received:
            return False
        return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))

    def parse_webhook(self, payload: dict[str, Any], config: dict[str, Any]) -> PaymentEvent:
        name = str(payload.get("event") or "")
        payment = raw if isinstance(raw := payload.get("payment"), dict) else {}
        billing_type = str(payment.get("billingType") or "")
        kind = EVENT_KINDS.get(name)
        partial = name == PARTIAL_REFUND
        if name == "PAYMENT_CONFIRMED" and billing_type == "CREDIT_CARD" and config.get("credit_card_on_confirmed",
                                                                                         True):
            kind = PaymentKind.CONFIRMED
        return PaymentEvent(
            gateway=self.id,
            event_id=str(payload.get("id") or f"{name}:{payment.get('id')}"),
            gateway_event=name or "unknown",
            kind=kind,
            order_id=str(payment["externalReference"]) if payment.get("externalReference") else None,
            gateway_charge_id=payment.get("id"),
            amount_cents=cents(payment.get("value")),
            currency=CURRENCY,
            partial=partial,
            refunded_cents=refunded_total(payment) if partial else cents(payment.get("value")),
            method={"PIX": "pix", "BOLETO": "boleto", "CREDIT_CARD": "credit_card"}.get(billing_type),
            occurred_at=payload.get("dateCreated"),
        )


__all__ = ["AsaasPayments", "refunded_total"]
