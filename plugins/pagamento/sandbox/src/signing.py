"""The sandbox gateway's webhook signature: ``x-sandbox-signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``
over ``"<t>." + raw body`` (the Stripe/Standard-Webhooks shape: the timestamp bounds replays)."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "x-sandbox-signature"
DEV_FALLBACK_KEY = "bigtech-sandbox-development-only"


def derived_secret(tenant_id: str, deployment_key: str | None) -> str:
    """The tenant's webhook key when its config sets none: HMAC(deployment key, tenant id)."""
    base = (deployment_key or DEV_FALLBACK_KEY).encode()
    return hmac.new(base, f"pagamento-sandbox:webhook:{tenant_id}".encode(), hashlib.sha256).hexdigest()


def sign(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(secret: str, header: str | None, raw_body: bytes, tolerance: int, now: float | None = None) -> bool:
    if not header or not secret:
        return False
    parts = dict(item.strip().partition("=")[::2] for item in header.split(","))
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.encode(), expected.encode())
