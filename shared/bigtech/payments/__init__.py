"""Payment plugins' shared code: models, the ``PaymentPlugin`` base, gateway HTTP, webhook
verification helpers (JWKS/RS256) and the ``/webhook/{tenant_id}`` pipeline. See ``docs/payments.md``."""

from .base import PaymentPlugin
from .gateway_http import GatewayError
from .models import ChargeOrder, ChargeRequest, Instructions, Payer, PaymentEvent, PaymentKind, PaymentMethod
from .service import build_payment_router, serve_payment

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
