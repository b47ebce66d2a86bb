"""Payment plugins' shared code: models, the ``PaymentPlugin`` base, gateway HTTP, webhook
verification helpers (JWKS/RS256) and the ``/webhook/{tenant_id}`` pipeline. See ``docs/payments.md``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .base import PaymentPlugin
    from .gateway_http import GatewayError
    from .models import ChargeOrder, ChargeRequest, Instructions, Payer, PaymentEvent, PaymentKind, PaymentMethod
    from .service import build_payment_router, serve_payment

# Imported on first use: billing reads the payment models without loading the gateway client (httpx).
_EXPORTS = {
    "PaymentPlugin": ".base",
    "GatewayError": ".gateway_http",
    "ChargeOrder": ".models",
    "ChargeRequest": ".models",
    "Instructions": ".models",
    "Payer": ".models",
    "PaymentEvent": ".models",
    "PaymentKind": ".models",
    "PaymentMethod": ".models",
    "build_payment_router": ".service",
    "serve_payment": ".service",
}
__getattr__ = exports(__name__, _EXPORTS)

__all__ = [
    "ChargeOrder",
    "ChargeRequest",
    "GatewayError",
    "Instructions",
    "Payer",
    "PaymentEvent",
    "PaymentKind",
    "PaymentMethod",
    "PaymentPlugin",
    "build_payment_router",
    "serve_payment",
]
