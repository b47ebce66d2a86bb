"""A token only CORE can mint, so a plugin's CORE-only routes refuse everyone else.

Why a token: on Appwrite every execution receives a dynamic key in ``x-appwrite-key`` (also a guest's,
when the function allows ``any``), and a guest is indistinguishable from a key caller by headers alone.
A payment plugin must be executable by ``any`` for its webhooks, so its ``/execute``, ``/enable``…
need a proof of origin that does not depend on the function's execute roles.

The token is ``v1.<expires unix>.<hex HMAC-SHA256>`` in the ``x-bigtech-core-token`` header, over
``plugin id, method, path, SHA-256 of the body, expiry``, under a key derived from
``BIGTECH_SECRETS_KEY`` (a project variable every CORE function and plugin already has; the derivation
label keeps this key separate from the one that encrypts plugin secrets). It binds the exact request,
so a captured token cannot be replayed on another route, another plugin or with another body, and it
expires after ``TTL_SECONDS``. Without the secrets key nothing can be minted and every CORE-only
route answers 401 (fail closed).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import time

from ..secrets_box import SecretsKeyMissing, load_key

HEADER = "x-bigtech-core-token"
VERSION = "v1"
TTL_SECONDS = 120  # sync executions end at 30 s; the rest is clock skew between function instances
_LABEL = b"bigtech/core-call/v1"


def _key() -> bytes:
    return hmac.new(load_key(), _LABEL, hashlib.sha256).digest()


def _as_bytes(body: bytes | str | None) -> bytes:
    if body is None:
        return b""
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def _message(plugin_id: str, method: str, path: str, body: bytes, expires: int) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"{VERSION}\n{plugin_id}\n{method.upper()}\n{path}\n{digest}\n{expires}".encode()


def mint(plugin_id: str, method: str, path: str, body: bytes | str | None, now: float | None = None) -> str:
    """The token for one call; raises ``SecretsKeyMissing`` without ``BIGTECH_SECRETS_KEY``."""
    expires = int(time.time() if now is None else now) + TTL_SECONDS
    signature = hmac.new(_key(), _message(plugin_id, method, path, _as_bytes(body), expires), hashlib.sha256)
    return f"{VERSION}.{expires}.{signature.hexdigest()}"


def headers(plugin_id: str, method: str, path: str, body: bytes | str | None) -> dict[str, str]:
    """The headers CORE sends with every execution of a plugin route (the token when it can mint one)."""
    sent = {"content-type": "application/json"}
    with contextlib.suppress(SecretsKeyMissing):  # without the key the plugin answers 401 core_only
        sent[HEADER] = mint(plugin_id, method, path, body)
    return sent


def verify(token: str | None, plugin_id: str, method: str, path: str, body: bytes | str | None,
           now: float | None = None) -> bool:
    """Whether ``token`` was minted by CORE for exactly this call and has not expired."""
    if not token:
        return False
    version, _, rest = token.strip().partition(".")
    expires_text, _, signature = rest.partition(".")
    if version != VERSION or not expires_text.isdigit() or len(expires_text) > 12 or not signature:
        return False
    expires = int(expires_text)
    current = int(time.time() if now is None else now)
    if expires < current or expires > current + TTL_SECONDS + 60:
        return False
    try:
        key = _key()
    except SecretsKeyMissing:
        return False
    expected = hmac.new(key, _message(plugin_id, method, path, _as_bytes(body), expires), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))


__all__ = ["HEADER", "TTL_SECONDS", "headers", "mint", "verify"]
