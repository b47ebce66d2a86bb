"""``serve_payment(plugin)`` → a payment plugin function's ``main``: the SDK's plugin routes plus

====== ======================== ================= ===============================================
method path                     action            who calls it
====== ======================== ================= ===============================================
POST   /webhook/{tenant_id}     payment.webhook   the gateway (function ``execute: ["any"]``)
POST   /simulate-payment        payment.simulate  dev tools / the member (sandbox only)
====== ======================== ================= ===============================================

Because the gateway must reach ``/webhook`` without credentials, a payment function is executable by
anyone. The plugin routes (``/execute``, ``/enable``, ``/disable``, ``/install``, ``/events``) still
answer 401 ``core_only`` to every caller without CORE's token (``bigtech.plugins.core_calls``), guests
included. The webhook route trusts nothing but the gateway's token or signature.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..appwrite_access import tables as tables_for
from ..http import Request, Router
from ..http import serve as serve_router
from ..plugins import build_router
from ..plugins.service import Gate, core_only
from . import webhooks
from .base import PaymentPlugin

WEBHOOK_ACTION = "payment.webhook"
SIMULATE_ACTION = "payment.simulate"
PUBLIC_ACTIONS = frozenset({WEBHOOK_ACTION, SIMULATE_ACTION})


def _core_only_except_public(plugin: PaymentPlugin) -> Gate:
    """``/manifest``, ``/webhook/…`` and ``/simulate-payment`` are public (each checks its own caller);
    every other route needs CORE's token."""
    return core_only(plugin.id, public=PUBLIC_ACTIONS)


def build_payment_router(plugin: PaymentPlugin) -> Router:
    router = build_router(plugin)

    def webhook(request: Request, tenant_id: str) -> dict[str, Any]:
        outcome = webhooks.receive(plugin, tables_for(request), tenant_id, request.headers, request.body)
        request.log.log(f"{plugin.id}: webhook tenant={tenant_id} event={outcome.event_id} "
                        f"order={outcome.order_id} → {outcome.outcome} {outcome.reason or outcome.event_type or ''}")
        return outcome.to_json()

    router.add("POST", "/webhook/{tenant_id}", webhook, action=WEBHOOK_ACTION)
    simulate = getattr(plugin, "simulate_payment", None)
    if callable(simulate):
        router.add("POST", "/simulate-payment", simulate, action=SIMULATE_ACTION)
    return router


def serve_payment(plugin: PaymentPlugin) -> Callable[[Any], Any]:
    """``main = serve_payment(MyGateway())``; ``main.plugin`` and ``main.router`` are exposed to tests."""
    main = serve_router(build_payment_router(plugin), before=[_core_only_except_public(plugin)])
    main.plugin = plugin  # type: ignore[attr-defined]
    return main


__all__ = ["SIMULATE_ACTION", "WEBHOOK_ACTION", "build_payment_router", "serve_payment"]
