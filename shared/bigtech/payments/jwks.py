"""Pagar.me v5 webhook signatures: RS256 over the raw body, public key picked by ``kid`` from a JWKS.

Header (``pagarme/ecommerce-module-core:src/Webhook/Services/WebhookValidatorService.php``)::

    X-Webhook-Asymmetric-Signature: alg=RS256; kid=<key id>; signature=<base64url>

The JWKS (default ``https://hubapi.pagar.me/.well-known/jwks.json``, configurable per tenant) is cached
per URL for ``ttl`` seconds in the warm worker: keys are public data, not per-execution credentials,
so caching them is safe. An unknown ``kid`` refreshes the set once (key rotation), at most every
``min_refresh`` seconds so forged kids cannot make us hammer the JWKS host.

The JWKS URL is tenant configuration and a guest's webhook decides *when* it is fetched, so the fetch
goes through the outbound guard (``bigtech.outbound``): https, Pagar.me's hosts only
(``JWKS_HOSTS``), public addresses only, no redirects. A refused URL fetches nothing and the
signature is simply not valid.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from jwt.algorithms import RSAAlgorithm

from ..outbound import OutboundPolicy, OutboundRefused, guarded_client

DEFAULT_JWKS_URL = "https://hubapi.pagar.me/.well-known/jwks.json"
# Where Pagar.me publishes its keys (also the pagamento-pagarme manifest's outbound_hosts).
JWKS_HOSTS = ("hubapi.pagar.me", "api.pagar.me")
MAX_JWKS_BYTES = 64 * 1024
SIGNATURE_HEADER = "x-webhook-asymmetric-signature"

Fetch = Callable[[str], dict[str, Any]]


def parse_signature_header(value: str | None) -> dict[str, str] | None:
    """``alg=RS256; kid=k1; signature=abc`` → ``{"alg", "kid", "signature"}``; ``None`` when malformed."""
    if not value:
        return None
    parts: dict[str, str] = {}
    for item in value.split(";"):
        name, sep, content = item.strip().partition("=")
        if not sep:
            continue
        parts[name.strip().lower()] = content.strip()  # base64url may end in '=': partition keeps it
    if not parts.get("kid") or not parts.get("signature") or parts.get("alg", "").upper() != "RS256":
        return None
    return parts


def b64url_decode(value: str) -> bytes:
    value = value.strip()
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def http_fetch(url: str, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """GET the JWKS through the outbound guard (raises ``OutboundRefused`` before any connection)."""
    policy = OutboundPolicy.from_env(JWKS_HOSTS)
    with guarded_client(policy, timeout=httpx.Timeout(5.0, connect=3.0), transport=transport) as http:
        response = http.get(url)
        response.raise_for_status()
        if len(response.content) > MAX_JWKS_BYTES:
            raise ValueError("JWKS too large")
        return response.json()


@dataclass
class _Entry:
    keys: dict[str, rsa.RSAPublicKey]
    fetched_at: float


class JwksCache:
    """Public keys by ``kid`` for each JWKS URL; thread-safe."""

    def __init__(self, fetch: Fetch = http_fetch, ttl: float = 3600.0, min_refresh: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._min_refresh = min_refresh
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()
        self.fetches = 0

    def _load(self, url: str) -> _Entry:
        document = self._fetch(url)
        self.fetches += 1
        keys: dict[str, rsa.RSAPublicKey] = {}
        for jwk in document.get("keys", []) if isinstance(document, dict) else []:
            if not isinstance(jwk, dict) or jwk.get("kty") != "RSA" or not jwk.get("kid"):
                continue
            if jwk.get("use") not in (None, "sig"):
                continue
            key = RSAAlgorithm.from_jwk(json.dumps(jwk))
            if isinstance(key, rsa.RSAPublicKey):
                keys[str(jwk["kid"])] = key
        entry = _Entry(keys, self._clock())
        self._entries[url] = entry
        return entry

    def key(self, url: str, kid: str) -> rsa.RSAPublicKey | None:
        with self._lock:
            now = self._clock()
            entry = self._entries.get(url)
            if entry is None or now - entry.fetched_at > self._ttl:
                entry = self._load(url)
            elif kid not in entry.keys and now - entry.fetched_at > self._min_refresh:
                entry = self._load(url)  # rotated keys
            return entry.keys.get(kid)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


DEFAULT_CACHE = JwksCache()


def verify_rs256(header: str | None, raw_body: bytes, jwks_url: str, cache: JwksCache = DEFAULT_CACHE) -> bool:
    """Whether ``header`` is a valid RS256 signature of ``raw_body`` by a key of the JWKS at ``jwks_url``."""
    parts = parse_signature_header(header)
    if parts is None:
        return False
    try:
        signature = b64url_decode(parts["signature"])
        key = cache.key(jwks_url, parts["kid"])
    except (ValueError, httpx.HTTPError, OutboundRefused):
        return False
    if key is None:
        return False
    try:
        key.verify(signature, raw_body, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def sign_rs256(private_key: rsa.RSAPrivateKey, kid: str, raw_body: bytes) -> str:
    """The header value Pagar.me would send (tests and fixtures sign with a locally generated key)."""
    signature = private_key.sign(raw_body, padding.PKCS1v15(), hashes.SHA256())
    return f"alg=RS256; kid={kid}; signature={b64url_encode(signature)}"


def public_jwk(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(RSAAlgorithm.to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


__all__ = [
    "DEFAULT_CACHE",
    "DEFAULT_JWKS_URL",
    "SIGNATURE_HEADER",
    "JwksCache",
    "parse_signature_header",
    "public_jwk",
    "sign_rs256",
    "verify_rs256",
]
