"""Function-side settings, read from the environment (then ``.env``) on every execution.

Reading is cheap (a few ``os.environ`` look-ups and, during development, one small file), and doing
it per execution means nothing tied to one execution or deployment survives in a warm worker.
Appwrite injects ``APPWRITE_FUNCTION_API_ENDPOINT`` and ``APPWRITE_FUNCTION_PROJECT_ID`` at run time;
the ``APPWRITE_ENDPOINT``/``APPWRITE_PROJECT_ID`` fallbacks let scripts and the local stack share the
developer's ``.env``. The environment always wins over ``.env``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

from . import lazy

if TYPE_CHECKING:
    import dotenv
else:  # reads a developer's .env: a deployed function has none, so it loads only when there is a file
    dotenv = lazy.module("dotenv")


class FunctionSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    endpoint: str | None = None
    project_id: str | None = None
    function_id: str | None = None
    deployment_id: str | None = None
    # RabbitMQ URL of the event bus; without one the relay delivers outbox rows directly.
    bus_url: str | None = None
    # Key for HMACs of documents (search keys in audit/consultas); never logged.
    data_key: str | None = None
    # BIGTECH_ENV: "development" or "test" must be said; a deployed function without it is production
    # (no payment simulation, https-only outbound requests).
    environment: str = "production"
    # Ed25519 seed (base64 of 32 bytes) that signs audit checkpoints (bigtech.audit.signing); never logged.
    audit_signing_key: str | None = None
    # Earlier audit public keys (comma-separated base64) still accepted on checkpoints after a rotation.
    audit_public_keys: str | None = None


# setting name → environment variables, first set one wins
SOURCES: dict[str, tuple[str, ...]] = {
    "endpoint": ("APPWRITE_FUNCTION_API_ENDPOINT", "APPWRITE_ENDPOINT"),
    "project_id": ("APPWRITE_FUNCTION_PROJECT_ID", "APPWRITE_PROJECT_ID"),
    "function_id": ("APPWRITE_FUNCTION_ID",),
    "deployment_id": ("APPWRITE_FUNCTION_DEPLOYMENT",),
    "bus_url": ("BIGTECH_BUS_URL",),
    "data_key": ("BIGTECH_DATA_KEY",),
    "environment": ("BIGTECH_ENV",),
    "audit_signing_key": ("BIGTECH_AUDIT_SIGNING_KEY",),
    "audit_public_keys": ("BIGTECH_AUDIT_PUBLIC_KEYS",),
}


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> FunctionSettings:
    """Settings for this execution. ``env_file`` defaults to ``.env`` in the working directory, if any."""
    env = dict(os.environ if environ is None else environ)
    dotenv_path = env_file if env_file is not None else Path.cwd() / ".env"
    file_values: dict[str, str] = {}
    if dotenv_path.is_file():
        file_values = {k: v for k, v in dotenv.dotenv_values(dotenv_path).items() if v is not None}
    values: dict[str, str] = {}
    for name, variables in SOURCES.items():
        for variable in variables:
            value = env.get(variable) or file_values.get(variable)
            if value:
                values[name] = value
                break
    return FunctionSettings(**values)
