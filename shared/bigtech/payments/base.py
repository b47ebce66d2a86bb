"""``PaymentPlugin``: the base of every ``pagamento`` plugin (Asaas, Pagar.me, sandbox).

A payment plugin does three things for CORE and the gateway:

- ``create_charge(request, config)`` → ``Instructions``: called by CORE billing through ``POST /execute``
  (``input = {"action": "create_charge", "order", "payer", "method"}``, ``config`` decrypted by CORE);
- ``verify_webhook(...)`` → bool: is this delivery really from the gateway (token, signature)?
- ``parse_webhook(payload, config)`` → ``PaymentEvent``: what it means for which order.

``POST /webhook/{tenant_id}`` (``bigtech.payments.service``) ties the last two to the tenant's outbox.
Gateway calls go through ``httpx``; ``transport`` lets tests replay recorded answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ValidationError

from ..plugins import Plugin, PluginContext, PluginResult, Status
from .gateway_http import GatewayError
from .models import ChargeRequest, Instructions, PaymentEvent


class PaymentPlugin(Plugin):
    def __init__(self, manifest: Any = None, *, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(manifest)
        self.transport = transport

    # -- what each gateway implements -------------------------------------------------------------

    def create_charge(self, request: ChargeRequest, config: dict[str, Any]) -> Instructions:
        raise NotImplementedError

    def verify_webhook(self, tenant_id: str, headers: Mapping[str, str], raw_body: bytes,
                       config: dict[str, Any]) -> bool:
        raise NotImplementedError

    def parse_webhook(self, payload: dict[str, Any], config: dict[str, Any]) -> PaymentEvent:
        raise NotImplementedError

    # -- the plugin contract ----------------------------------------------------------------------

    def execute(self, ctx: PluginContext) -> PluginResult:
        try:
            request = ChargeRequest.model_validate(ctx.input)
        except ValidationError as error:
            fields = ", ".join(sorted({".".join(str(p) for p in e["loc"]) for e in error.errors()}))
            return PluginResult.error(Status.FAILED, "invalid_input", f"Invalid charge request: {fields}.")
        if request.order.tenant_id != ctx.tenant_id:
            return PluginResult.error(Status.FAILED, "invalid_input", "The order belongs to another tenant.")
        try:
            instructions = self.create_charge(request, ctx.config)
        except GatewayError as error:
            status = Status.RETRYABLE if error.retryable else Status.FAILED
            return PluginResult.error(status, error.code, error.message,
                                      detail={"gateway_status": error.gateway_status})
        return PluginResult(status=Status.OK, data=instructions.to_json())


__all__ = ["PaymentPlugin"]
