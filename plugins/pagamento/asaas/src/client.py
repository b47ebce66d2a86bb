"""Asaas API v3 requests, built exactly as the reference documents them (``reference/gateways.md`` §1).

- auth: ``access_token: <API key>`` plus a ``User-Agent`` (401 without one on newer accounts);
- base: ``https://api-sandbox.asaas.com/v3`` or ``https://api.asaas.com/v3``;
- amounts: decimal BRL (``value: 50.0``), never cents.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from bigtech.payments import gateway_http
from bigtech.payments.models import ChargeOrder, Payer, PaymentMethod, brl

GATEWAY = "Asaas"
BASE_URLS = {"sandbox": "https://api-sandbox.asaas.com/v3", "production": "https://api.asaas.com/v3"}
BILLING_TYPES = {PaymentMethod.PIX: "PIX", PaymentMethod.BOLETO: "BOLETO", PaymentMethod.CREDIT_CARD: "CREDIT_CARD"}


def headers(config: dict[str, Any]) -> dict[str, str]:
    return {
        "access_token": str(config["api_key"]),
        "User-Agent": str(config.get("user_agent") or "Bigtech/1.0"),
        "Content-Type": "application/json",
        "Accept": "application/json",
    }


def member_reference(tenant_id: str, user_id: str) -> str:
    """The customer's ``externalReference``: one Asaas customer per member of a tenant."""
    return f"bigtech:{tenant_id}:{user_id}"


def customer_body(payer: Payer, tenant_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": payer.name}
    if payer.document:
        body["cpfCnpj"] = "".join(ch for ch in payer.document if ch.isalnum())
    if payer.email:
        body["email"] = payer.email
    if payer.phone:
        body["mobilePhone"] = payer.phone
    body["externalReference"] = member_reference(tenant_id, payer.user_id)
    body["notificationDisabled"] = True  # Bigtech shows the instructions itself
    return body


def payment_body(order: ChargeOrder, customer_id: str, method: PaymentMethod, due_days: int, today: date,
                 card_token: str | None = None, remote_ip: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": customer_id,
        "billingType": BILLING_TYPES[method],
        "value": float(brl(order.amount_cents)),
        "dueDate": (today + timedelta(days=due_days)).isoformat(),
        "description": order.description,
        "externalReference": order.id,
    }
    if method is PaymentMethod.CREDIT_CARD and card_token:
        body["creditCardToken"] = card_token
        if remote_ip:
            body["remoteIp"] = remote_ip
    return body


class AsaasClient:
    def __init__(self, config: dict[str, Any], transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        self.base_url = BASE_URLS[str(config.get("environment") or "sandbox")]
        self._http = gateway_http.client(self.base_url, headers(config), transport)

    def __enter__(self) -> AsaasClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return gateway_http.request_json(self._http, method, path, gateway=GATEWAY, **kwargs)

    def find_customer(self, external_reference: str) -> str | None:
        found = self._call("GET", "/customers", params={"externalReference": external_reference})
        for customer in found.get("data", []) if isinstance(found, dict) else []:
            if isinstance(customer, dict) and customer.get("id") and not customer.get("deleted"):
                return str(customer["id"])
        return None

    def customer_for(self, payer: Payer, tenant_id: str) -> str:
        """Look the member's customer up first: Asaas happily creates duplicates."""
        existing = self.find_customer(member_reference(tenant_id, payer.user_id))
        if existing:
            return existing
        created = self._call("POST", "/customers", json=customer_body(payer, tenant_id))
        return str(created["id"])

    def find_payment(self, order_id: str) -> dict[str, Any] | None:
        """The live (not deleted) charge already made for our order, if any (``externalReference``)."""
        found = self._call("GET", "/payments", params={"externalReference": order_id})
        for payment in found.get("data", []) if isinstance(found, dict) else []:
            if isinstance(payment, dict) and payment.get("id") and not payment.get("deleted") \
                    and payment.get("externalReference") == order_id:
                return payment
        return None

    def create_payment(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/payments", json=body)

    def pix_qr_code(self, payment_id: str) -> dict[str, Any]:
        return self._call("GET", f"/payments/{payment_id}/pixQrCode")

    def identification_field(self, payment_id: str) -> dict[str, Any]:
        """Boleto linha digitável: ``{identificationField, nossoNumero, barCode}``."""
        return self._call("GET", f"/payments/{payment_id}/identificationField")


__all__ = ["BASE_URLS", "AsaasClient", "customer_body", "headers", "member_reference", "payment_body"]
