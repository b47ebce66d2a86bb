"""Pagar.me API v5 requests, as ``reference/gateways.md`` §2 documents them.

- base ``https://api.pagar.me/core/v5`` (test and live alike: the key decides);
- ``Authorization: Basic base64("<secret_key>:")``;
- amounts in integer **cents**; our order id travels as the order ``code`` and in ``metadata``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bigtech.payments import gateway_http
from bigtech.payments.models import ChargeOrder, Payer, PaymentMethod

GATEWAY = "Pagar.me"
BASE_URL = "https://api.pagar.me/core/v5"


def headers(config: dict[str, Any]) -> dict[str, str]:
    token = base64.b64encode(f"{config['secret_key']}:".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}


def customer_body(payer: Payer, tenant_id: str) -> dict[str, Any]:
    customer: dict[str, Any] = {"name": payer.name, "code": f"bigtech:{tenant_id}:{payer.user_id}"}
    if payer.email:
        customer["email"] = payer.email
    if payer.document:
        document = "".join(ch for ch in payer.document if ch.isalnum()).upper()
        company = len(document) == 14
        customer.update({"document": document, "document_type": "CNPJ" if company else "CPF",
                         "type": "company" if company else "individual"})
    phone = "".join(ch for ch in (payer.phone or "") if ch.isdigit())
    if len(phone) >= 10:
        customer["phones"] = {"mobile_phone": {"country_code": "55", "area_code": phone[:2], "number": phone[2:]}}
    return customer


def payment(order: ChargeOrder, method: PaymentMethod, config: dict[str, Any], now: datetime,
            card_token: str | None = None) -> dict[str, Any]:
    if method is PaymentMethod.PIX:
        return {"payment_method": "pix", "pix": {"expires_in": int(config.get("pix_expires_in", 3600))},
                "amount": order.amount_cents}
    if method is PaymentMethod.BOLETO:
        due = (now + timedelta(days=int(config.get("boleto_due_days", 3)))).replace(microsecond=0)
        return {"payment_method": "boleto",
                "boleto": {"due_at": due.isoformat().replace("+00:00", "Z"),
                           "instructions": "Pagamento de créditos Bigtech. Não receber após o vencimento."},
                "amount": order.amount_cents}
    if card_token:
        return {"payment_method": "credit_card",
                "credit_card": {"installments": 1, "statement_descriptor": config.get("statement_descriptor",
                                                                                      "BIGTECH"),
                                "card_token": card_token},
                "amount": order.amount_cents}
    # No tokenised card: Pagar.me's hosted checkout collects it (its payment_url is the checkout URL).
    # Checkout ``expires_in`` is in MINUTES (PIX's is in seconds).
    return {"payment_method": "checkout",
            "checkout": {"expires_in": int(config.get("checkout_expires_in_minutes", 60)),
                         "accepted_payment_methods": ["credit_card"],
                         "success_url": config.get("checkout_success_url", "https://bigtech.local/checkout/ok"),
                         "customer_editable": False, "billing_address_editable": False,
                         "skip_checkout_success_page": False},
            "amount": order.amount_cents}


def order_body(order: ChargeOrder, payer: Payer, method: PaymentMethod, config: dict[str, Any],
               now: datetime | None = None, card_token: str | None = None) -> dict[str, Any]:
    return {
        "code": order.id,
        "customer": customer_body(payer, order.tenant_id),
        "items": [{"amount": order.amount_cents, "description": order.description, "quantity": 1,
                   "code": order.package_id}],
        "payments": [payment(order, method, config, now or datetime.now(UTC), card_token)],
        "metadata": {"tenant_id": order.tenant_id, "order_id": order.id},
        "closed": True,
    }


class PagarmeClient:
    def __init__(self, config: dict[str, Any], transport: httpx.BaseTransport | None = None) -> None:
        self._http = gateway_http.client(BASE_URL, headers(config), transport)

    def __enter__(self) -> PagarmeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def create_order(self, body: dict[str, Any], idempotency_key: str | None = None) -> dict[str, Any]:
        """``POST /orders``; ``idempotency-key`` = our order id, so a retried create returns the same order."""
        headers = {"idempotency-key": idempotency_key} if idempotency_key else None
        return gateway_http.request_json(self._http, "POST", "/orders", gateway=GATEWAY, json=body,
                                         headers=headers)


__all__ = ["BASE_URL", "PagarmeClient", "customer_body", "headers", "order_body"]
