"""Encryption at rest for plugin secrets (API tokens and the like): AES-256-GCM, key from the environment.

The key is ``BIGTECH_SECRETS_KEY``: 32 random bytes, base64 (``python -c "import os,base64;
print(base64.b64encode(os.urandom(32)).decode())"``). It is read on every call, environment first and
then the working directory's ``.env`` (the same order as ``bigtech.settings``), never cached and never
logged. Without it nothing secret can be stored or read: ``SecretsKeyMissing`` (a deployment problem,
so a 500 for the caller) is raised only when a secret actually has to be handled, so tenants whose
plugins have no secret fields work without a key.

A sealed value is ``v1.<base64(nonce ‖ ciphertext ‖ tag)>``. The associated data binds it to where it
is stored (``<tenant>/<plugin>``), so a ciphertext copied into another tenant's row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import lazy

if TYPE_CHECKING:
    import dotenv
else:  # reads a developer's .env: a deployed function has none, so it loads only when there is a file
    dotenv = lazy.module("dotenv")


KEY_VARIABLE = "BIGTECH_SECRETS_KEY"
VERSION = "v1"
NONCE_BYTES = 12


class SecretsKeyMissing(RuntimeError):
    """``BIGTECH_SECRETS_KEY`` is not set or is not 32 bytes of base64."""


class SecretsCorrupted(ValueError):
    """A sealed value does not decrypt with the current key and its associated data."""


def load_key(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> bytes:
    env = os.environ if environ is None else environ
    raw = env.get(KEY_VARIABLE)
    if not raw:
        path = env_file if env_file is not None else Path.cwd() / ".env"
        if path.is_file():
            raw = dotenv.dotenv_values(path).get(KEY_VARIABLE)
    if not raw:
        raise SecretsKeyMissing(f"{KEY_VARIABLE} is not set; plugin secrets cannot be stored or read.")
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise SecretsKeyMissing(f"{KEY_VARIABLE} is not valid base64.") from None
    if len(key) != 32:
        raise SecretsKeyMissing(f"{KEY_VARIABLE} must decode to 32 bytes (AES-256), not {len(key)}.")
    return key


def seal(values: Mapping[str, Any], associated: str, key: bytes | None = None) -> str:
    """Encrypt a JSON-able mapping; ``associated`` names the place it belongs to (tenant/plugin)."""
    plain = json.dumps(dict(values), sort_keys=True, separators=(",", ":")).encode("utf-8")
    nonce = os.urandom(NONCE_BYTES)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # on use: not every route seals (cold start)

    sealed = AESGCM(key or load_key()).encrypt(nonce, plain, associated.encode("utf-8"))
    return f"{VERSION}.{base64.b64encode(nonce + sealed).decode('ascii')}"


def open_sealed(token: str | None, associated: str, key: bytes | None = None) -> dict[str, Any]:
    """The mapping ``seal`` encrypted; ``{}`` for an empty token."""
    if not token:
        return {}
    version, _, payload = token.partition(".")
    if version != VERSION or not payload:
        raise SecretsCorrupted("Unknown sealed-value format.")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    try:
        raw = base64.b64decode(payload, validate=True)
        plain = AESGCM(key or load_key()).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated.encode("utf-8"))
    except (binascii.Error, ValueError, InvalidTag):
        raise SecretsCorrupted("A sealed value does not decrypt (wrong key or moved).") from None
    value = json.loads(plain.decode("utf-8"))
    return value if isinstance(value, dict) else {}


__all__ = ["KEY_VARIABLE", "SecretsCorrupted", "SecretsKeyMissing", "load_key", "open_sealed", "seal"]
