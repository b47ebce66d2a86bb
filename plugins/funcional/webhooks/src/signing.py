"""Standard Webhooks signatures with the ``standardwebhooks`` library, and the endpoint secrets.

A secret is ``whsec_`` + base64 of 32 random bytes, shown to the owner once (create, rotate) and kept
sealed (``bigtech.secrets_box``, AES-GCM bound to ``<tenant>/funcional-webhooks/<endpoint>``). During a
rotation window a message carries two space-separated signatures, new first, so a receiver verifying
with either secret accepts it (the spec's multi-signature header).
"""

from __future__ import annotations

import base64
import secrets
from datetime import UTC, datetime

from standardwebhooks import Webhook

from bigtech import secrets_box

PREFIX = "whsec_"
PLUGIN_ID = "funcional-webhooks"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def associated(tenant_id: str, endpoint_id: str) -> str:
    return f"{tenant_id}/{PLUGIN_ID}/{endpoint_id}"


def seal(secret: str, tenant_id: str, endpoint_id: str) -> str:
    return secrets_box.seal({"secret": secret}, associated(tenant_id, endpoint_id))


def unseal(token: str | None, tenant_id: str, endpoint_id: str) -> str | None:
    if not token:
        return None
    return secrets_box.open_sealed(token, associated(tenant_id, endpoint_id)).get("secret")


def headers(message_id: str, body: str, secrets_in_use: list[str], now: datetime | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (a fresh timestamp per attempt)."""
    when = (now or datetime.now(UTC)).astimezone(UTC)
    signatures = " ".join(Webhook(secret).sign(message_id, when, body) for secret in secrets_in_use)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(when.timestamp())),
        "webhook-signature": signatures,
        "content-type": "application/json",
        "user-agent": "Bigtech-Webhooks/1.0",
    }
