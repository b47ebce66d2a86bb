"""Function-side settings, read from the environment (then ``.env``) on every execution.

Reading is cheap (a few ``os.environ`` look-ups and, during development, one small file), and doing
it per execution means nothing tied to one execution or deployment survives in a warm worker.
Appwrite injects ``APPWRITE_FUNCTION_API_ENDPOINT`` and ``APPWRITE_FUNCTION_PROJECT_ID`` at run time;
the ``APPWRITE_ENDPOINT``/``APPWRITE_PROJECT_ID`` fallbacks let scripts and the local stack share the
developer's ``.env``. The environment always wins over ``.env``.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from pathlib import Path
from stat import S_ISREG
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
    env = os.environ if environ is None else environ
    file_values = _dotenv_file(env_file if env_file is not None else Path.cwd() / ".env")
    values: dict[str, str] = {}
    for name, variables in SOURCES.items():
        for variable in variables:
            value = env.get(variable) or file_values.get(variable)
            if value:
                values[name] = value
                break
    return FunctionSettings(**values)


# Parsed ``.env`` files by path, each with the (mtime, size) it was parsed at: during development an execution
# reads its settings several times (every Appwrite client, the audit signer), and parsing the file each time
# was the largest CPU cost of a local execution. An edited file is parsed again at once. A file naming ``$``
# is never kept: dotenv expands ``${VAR}`` from the environment, which differs between executions.
_DOTENV_FILES: dict[Path, tuple[tuple[int, int], dict[str, str]]] = {}


def _dotenv_file(path: Path) -> Mapping[str, str]:
    try:
        stat = path.stat()
    except OSError:
        return {}
    if not S_ISREG(stat.st_mode):
        return {}
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _DOTENV_FILES.get(path)
    if cached is not None and cached[0] == version:
        return cached[1]
    text = path.read_text(encoding="utf-8")
    values = {k: v for k, v in dotenv.dotenv_values(stream=io.StringIO(text)).items() if v is not None}
    if "$" not in text:
        _DOTENV_FILES[path] = (version, values)
    return values
