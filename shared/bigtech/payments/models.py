"""What crosses the payment-plugin boundary: the charge CORE asks for, the payment instructions the
plugin answers with, and the normalized payment event a gateway webhook becomes.

Amounts are integer **cents** everywhere inside Bigtech; each gateway client converts at its edge
(Asaas wants decimal BRL ``50.00``, Pagar.me wants cents ``5000``).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt


class PaymentMethod(StrEnum):
    PIX = "pix"
    BOLETO = "boleto"
    CREDIT_CARD = "credit_card"


class PaymentKind(StrEnum):
    """What a webhook means for an order (the ``payment.<kind>`` event type)."""

    CONFIRMED = "confirmed"
    FAILED = "failed"
    REFUNDED = "refunded"
    CHARGEBACK = "chargeback"


class Payer(BaseModel):
    """The member paying: the gateway customer. ``document`` is a CPF/CNPJ (digits), optional for the sandbox."""

    model_config = ConfigDict(extra="forbid")

    user_id: str = Field(min_length=1, max_length=36)
    name: str = Field(min_length=1, max_length=128)
    email: str | None = Field(default=None, max_length=256)
    document: str | None = Field(default=None, max_length=32)
    phone: str | None = Field(default=None, max_length=20)
    ip: str | None = Field(default=None, max_length=64)


class ChargeOrder(BaseModel):
    """The Bigtech order being paid: its id is the reference every gateway echoes back."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=36)
    tenant_id: str = Field(min_length=1, max_length=64)
    package_id: str = Field(min_length=1, max_length=36)
    description: str = Field(min_length=1, max_length=256)
    credits: StrictInt = Field(ge=1)
    amount_cents: StrictInt = Field(ge=1)


class ChargeRequest(BaseModel):
    """``PluginContext.input`` of ``POST /execute`` with ``action: create_charge``."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(default="create_charge", pattern=r"^create_charge$")
    order: ChargeOrder
    payer: Payer
    method: PaymentMethod
    card_token: str | None = Field(default=None, max_length=256)


class Instructions(BaseModel):
    """How the member pays; what ``POST /orders`` returns (and stores) as ``payment``.

    Only the fields of the chosen method are set: PIX → ``pix_payload`` (copia e cola) plus a QR image
    (``pix_qr_code_base64`` PNG or ``pix_qr_code_url``); boleto → ``boleto_url`` and ``boleto_line``
    (linha digitável); card → ``checkout_url`` (hosted page) unless the card token was charged at once.
    """

    model_config = ConfigDict(extra="forbid")

    gateway: str
    method: PaymentMethod
    status: str = "pending"
    gateway_order_id: str | None = None
    gateway_charge_id: str | None = None
    gateway_customer_id: str | None = None
    pix_payload: str | None = None
    pix_qr_code_base64: str | None = None
    pix_qr_code_url: str | None = None
    boleto_url: str | None = None
    boleto_line: str | None = None
    boleto_barcode: str | None = None
    checkout_url: str | None = None
    expires_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class PaymentEvent(BaseModel):
    """A verified webhook, normalized. ``event_id`` is the gateway's (dedupe key); ``order_id`` is ours."""

    model_config = ConfigDict(extra="forbid")

    gateway: str
    event_id: str = Field(min_length=1, max_length=200)
    gateway_event: str  # the gateway's own event name, e.g. PAYMENT_RECEIVED, charge.refunded
    kind: PaymentKind | None  # None: a notification that changes nothing (PAYMENT_CREATED, charge.pending…)
    order_id: str | None
    gateway_charge_id: str | None = None
    # What the gateway says was paid (confirmed) — compared with the order by billing before crediting.
    amount_cents: int | None = None
    currency: str | None = None  # ISO 4217 as the gateway reports it; None: not stated (billing reviews)
    # True only where the gateway itself reports an overpayment as paid (Pagar.me ``charge.overpaid``).
    accepts_overpayment: bool = False
    # Refunds: ``partial`` when only part was given back; ``refunded_cents`` the total refunded so far.
    partial: bool = False
    refunded_cents: int | None = None
    method: str | None = None
    occurred_at: str | None = None

    @property
    def event_type(self) -> str | None:
        return f"payment.{self.kind.value}" if self.kind is not None else None

    def event_data(self) -> dict[str, Any]:
        """The ``data`` of the ``payment.*`` outbox event (no personal data)."""
        return {
            "order_id": self.order_id,
            "gateway": self.gateway,
            "gateway_event_id": self.event_id,
            "gateway_event": self.gateway_event,
            "gateway_charge_id": self.gateway_charge_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "accepts_overpayment": self.accepts_overpayment,
            "partial": self.partial,
            "refunded_cents": self.refunded_cents,
            "method": self.method,
            "occurred_at": self.occurred_at,
        }


def brl(cents: int) -> Decimal:
    """Cents → decimal BRL with two places (Asaas' ``value``)."""
    return (Decimal(cents) / 100).quantize(Decimal("0.01"))


def strict_cents(value: Any) -> int | None:
    """An integer amount of cents as a gateway sent it (JSON integer, not a bool/float/string); else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def cents(value: Any) -> int | None:
    """Decimal BRL (number or string) → cents; ``None`` when absent or unreadable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int((Decimal(str(value)) * 100).quantize(Decimal("1")))
    except ArithmeticError:
        return None


__all__ = [
    "ChargeOrder",
    "ChargeRequest",
    "Instructions",
    "Payer",
    "PaymentEvent",
    "PaymentKind",
    "PaymentMethod",
    "brl",
    "cents",
    "strict_cents",
]
