"""The sandbox gateway's webhook signature: ``x-sandbox-signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``
over ``"<t>." + raw body`` (the Stripe/Standard-Webhooks shape: the timestamp bounds replays).

The key is the tenant's own ``webhook_secret``: random, made by CORE when the tenant enables the plugin
(``"generated": true`` in plugin.json) and sealed with the other plugin secrets. There is no fallback
key: without a secret nothing verifies (fail closed).
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "x-sandbox-signature"
MIN_SECRET_LENGTH = 16


def sign(secret: str, raw_body: bytes, timestamp: int | None = None) -> str:
    if len(secret or "") < MIN_SECRET_LENGTH:
        raise ValueError("refusing to sign with a missing or short webhook secret")
    stamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def verify(secret: str | None, header: str | None, raw_body: bytes, tolerance: int, now: float | None = None) -> bool:
    if not header or not secret or len(secret) < MIN_SECRET_LENGTH:
        return False
    parts = dict(item.strip().partition("=")[::2] for item in header.split(","))
    stamp, given = parts.get("t", ""), parts.get("v1", "")
    if not stamp.isdigit() or not given:
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given.encode(), expected.encode())
