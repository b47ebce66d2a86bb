"""The key that signs audit checkpoints: Ed25519, kept outside every Appwrite database.

``BIGTECH_AUDIT_SIGNING_KEY`` is the base64 of a 32-byte Ed25519 seed, set as a project (or function)
variable — never a row — and read on every call through ``bigtech.settings`` (environment first, then
``.env``), never cached and never logged. Anyone with database write access can rewrite the chain
and its head, but cannot sign a checkpoint; so the signed checkpoints are what a rewritten history
cannot match (see ``bigtech.audit.checkpoints``).

The public key (raw 32 bytes, base64) is published for verifiers: ``GET /public-key`` on the audit
function, ``python -m bigtech.audit.signing public-key`` for operators. Its ``key_id`` (the first 16 hex
digits of SHA-256 of the raw public key) names it in each checkpoint, so after a rotation the old
checkpoints still verify with the old public key, listed in ``BIGTECH_AUDIT_PUBLIC_KEYS``
(comma-separated base64).

``python -m bigtech.audit.signing new-key`` prints a fresh seed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # cryptography is imported where a key is used, not with the audit package (cold start)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..settings import load_settings

KEY_VARIABLE = "BIGTECH_AUDIT_SIGNING_KEY"
PUBLIC_KEYS_VARIABLE = "BIGTECH_AUDIT_PUBLIC_KEYS"
ALGORITHM = "Ed25519"


class SigningKeyMissing(RuntimeError):
    """No usable ``BIGTECH_AUDIT_SIGNING_KEY``: checkpoints cannot be written (the trail stays unanchored)."""


class BadPublicKey(ValueError):
    """A public key that is not 32 bytes of base64."""


def _b64decode(text: str) -> bytes:
    return base64.b64decode(text.strip(), validate=True)


def key_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from its base64 (raw 32 bytes)."""
    try:
        raw = _b64decode(text)
    except (binascii.Error, ValueError):
        raise BadPublicKey("An audit public key must be base64.") from None
    if len(raw) != 32:
        raise BadPublicKey(f"An audit public key is 32 bytes, not {len(raw)}.")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    return Ed25519PublicKey.from_public_bytes(raw)


def _raw(public: Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Signer:
    """The current signing key (built per call from the environment, never kept in a module global)."""

    private: Ed25519PrivateKey = field(repr=False)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_key_b64(self) -> str:
        return base64.b64encode(_raw(self.public_key)).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id_of(_raw(self.public_key))

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")


@dataclass(frozen=True)
class PublicKeys:
    """The public keys a checkpoint may be signed with, by ``key_id``."""

    keys: Mapping[str, Ed25519PublicKey]
    current: str | None = None  # key id of the current signing key, if this deployment has it

    @classmethod
    def of(cls, keys: Iterable[Ed25519PublicKey], current: str | None = None) -> PublicKeys:
        return cls({key_id_of(_raw(key)): key for key in keys}, current)

    @classmethod
    def from_text(cls, texts: Iterable[str]) -> PublicKeys:
        return cls.of(parse_public_key(text) for text in texts if text.strip())

    def __bool__(self) -> bool:
        return bool(self.keys)

    def verify(self, key_id: str, signature: str, message: bytes) -> bool:
        key = self.keys.get(key_id)
        if key is None:
            return False
        from cryptography.exceptions import InvalidSignature

        try:
            key.verify(_b64decode(signature), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def published(self) -> list[dict[str, object]]:
        """What ``GET /public-key`` answers: every key a verifier may need, the current one first."""
        ordered = sorted(self.keys.items(), key=lambda item: item[0] != self.current)
        return [{"key_id": key_id, "public_key": base64.b64encode(_raw(key)).decode("ascii"),
                 "current": key_id == self.current} for key_id, key in ordered]


def load_signer(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> Signer:
    """The signing key from ``BIGTECH_AUDIT_SIGNING_KEY``; ``SigningKeyMissing`` when unset or malformed."""
    raw = load_settings(environ, env_file).audit_signing_key
    if not raw:
        raise SigningKeyMissing(f"{KEY_VARIABLE} is not set: audit checkpoints cannot be signed.")
    try:
        seed = _b64decode(raw)
    except (binascii.Error, ValueError):
        raise SigningKeyMissing(f"{KEY_VARIABLE} is not valid base64.") from None
    if len(seed) != 32:
        raise SigningKeyMissing(f"{KEY_VARIABLE} must decode to a 32-byte Ed25519 seed, not {len(seed)} bytes.")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Signer(Ed25519PrivateKey.from_private_bytes(seed))


def load_public_keys(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> PublicKeys:
    """The current key's public half (when the signing key is set) plus ``BIGTECH_AUDIT_PUBLIC_KEYS``.

    A malformed entry in the list is skipped (a checkpoint signed with it then reads as unverifiable),
    so one typo cannot turn ``verify`` into a 500.
    """
    keys: list[Ed25519PublicKey] = []
    current = None
    try:
        signer = load_signer(environ, env_file)
        keys.append(signer.public_key)
        current = signer.key_id
    except SigningKeyMissing:
        pass
    listed = load_settings(environ, env_file).audit_public_keys or ""
    for text in listed.split(","):
        if text.strip():
            try:
                keys.append(parse_public_key(text))
            except BadPublicKey:
                continue
    return PublicKeys.of(keys, current)


def new_seed() -> str:
    """A fresh signing key, as ``BIGTECH_AUDIT_SIGNING_KEY`` wants it."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def _main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "new-key":
        print(new_seed())
        return 0
    if command == "public-key":
        try:
            signer = load_signer()
        except SigningKeyMissing as error:
            print(f"error: {error}", file=sys.stderr)
            return 1
        print(signer.public_key_b64)
        return 0
    print("usage: python -m bigtech.audit.signing new-key | public-key", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))


__all__ = ["ALGORITHM", "KEY_VARIABLE", "PUBLIC_KEYS_VARIABLE", "BadPublicKey", "PublicKeys", "Signer",
           "SigningKeyMissing", "key_id_of", "load_public_keys", "load_signer", "new_seed", "parse_public_key"]
