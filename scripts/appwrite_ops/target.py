"""The Appwrite project an operation acts on, from the environment (then ``.env``); nothing defaults
to a server, so a command never acts on one nobody named."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from appwrite.client import Client

REPO_ROOT = Path(__file__).resolve().parents[2]


class OpsError(RuntimeError):
    """An operation cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    endpoint: str
    project_id: str
    api_key: str

    @classmethod
    def from_env(cls, env_file: Path | None = REPO_ROOT / ".env") -> Target:
        """From ``APPWRITE_*`` in the environment, else in ``.env``. Only these three are read from the
        file, and ``os.environ`` is left alone: a developer's ``.env`` (dev keys) must never reach the
        ``BIGTECH_*`` variables that ``bootstrap`` sends to a server."""
        names = ("APPWRITE_ENDPOINT", "APPWRITE_PROJECT_ID", "APPWRITE_API_KEY")
        file_values: dict[str, str | None] = {}
        if env_file is not None and env_file.is_file():
            from dotenv import dotenv_values

            file_values = dotenv_values(env_file)
        values = {name: os.environ.get(name) or file_values.get(name) or "" for name in names}
        missing = [name for name in names if not values[name]]
        if missing:
            raise OpsError(f"Set {', '.join(missing)} (the target Appwrite server, project and API key).")
        return cls(values["APPWRITE_ENDPOINT"].rstrip("/"), values["APPWRITE_PROJECT_ID"],
                   values["APPWRITE_API_KEY"])

    def client(self) -> Client:
        return Client().set_endpoint(self.endpoint).set_project(self.project_id).set_key(self.api_key)


def call(client: Client, method: str, path: str, params: dict | None = None) -> dict:
    """A raw API call with Appwrite 1.8/1.9 parameter names (what CLI 12 sends), not SDK 27's Cloud ones."""
    headers = {"content-type": "application/json"}
    return client.call(method, path, headers, params or {})
