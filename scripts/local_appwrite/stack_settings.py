"""The stack's settings, read from the environment and ``.env`` with the names the README lists."""

from __future__ import annotations

import base64
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import load_dotenv

REPO_ROOT = Path(__file__).resolve().parents[2]

# The secret project variables: no value is ever committed. scripts/bootstrap.sh writes fresh ones into
# a new .env; test stacks get fresh ones from ``fresh_secrets``.
SECRET_VARIABLES = ("BIGTECH_SECRETS_KEY", "BIGTECH_AUDIT_SIGNING_KEY", "BIGTECH_DATA_KEY")


def fresh_secrets() -> dict[str, str]:
    """A random value (32 bytes, base64) for each secret project variable."""
    return {name: base64.b64encode(secrets.token_bytes(32)).decode("ascii") for name in SECRET_VARIABLES}


@dataclass(frozen=True)
class StackSettings:
    endpoint: str = "http://127.0.0.1:8080/v1"
    project_id: str = "bigtech"
    api_key: str = "standard_dev_key_change_me"
    data_dir: Path = REPO_ROOT / ".data"
    appwrite_json: Path = REPO_ROOT / "appwrite.json"
    functions_mode: str = "source"  # "source" (in-process) or "build" (a worker process per function)
    build_dir: Path = REPO_ROOT / "build" / "functions"
    # build mode: instances per function, each serving one execution at a time ("2" or "1,consultas=4")
    function_instances: str = "1"
    admin_email: str = "admin@bigtech.local"
    admin_password: str = "admin-password"
    run_schedules: bool = True
    # Hostnames of the project's registered web platforms (CORS, invitation redirect URLs).
    web_platforms: tuple[str, ...] = ("localhost",)
    sync_timeout_seconds: float = 30.0  # a synchronous execution answers 408 after this (Appwrite: 30 s)
    verbose: bool = False
    # Project variables for every function, beneath the process's own BIGTECH_* environment (which wins).
    variables: Mapping[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint).hostname or "127.0.0.1"

    @property
    def port(self) -> int:
        return urlsplit(self.endpoint).port or 80

    @classmethod
    def from_env(cls, env_file: Path | None = REPO_ROOT / ".env", **overrides: object) -> StackSettings:
        """Environment first, then ``.env`` (which never overrides what is already set)."""
        if env_file is not None and env_file.exists():
            load_dotenv(env_file, override=False)
        env = os.environ
        values: dict[str, object] = {
            "endpoint": env.get("APPWRITE_ENDPOINT", cls.endpoint),
            "project_id": env.get("APPWRITE_PROJECT_ID", cls.project_id),
            "api_key": env.get("APPWRITE_API_KEY", cls.api_key),
            "data_dir": Path(env.get("BIGTECH_DATA_DIR") or cls.data_dir),
            "admin_email": env.get("BIGTECH_ADMIN_EMAIL", cls.admin_email),
            "admin_password": env.get("BIGTECH_ADMIN_PASSWORD", cls.admin_password),
            "functions_mode": env.get("BIGTECH_FUNCTIONS_MODE", cls.functions_mode),
            "web_platforms": tuple(h.strip() for h in env.get("BIGTECH_LOCAL_WEB_PLATFORMS", "localhost").split(",")
                                   if h.strip()),
            "function_instances": env.get("BIGTECH_FUNCTION_INSTANCES", cls.function_instances),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @classmethod
    def for_tests(cls, port: int, **overrides: object) -> StackSettings:
        data_dir = Path(tempfile.mkdtemp(prefix="bigtech-stack-"))
        values: dict[str, object] = {
            "endpoint": f"http://127.0.0.1:{port}/v1",
            "data_dir": data_dir,
            "api_key": "standard_" + secrets.token_hex(16),  # random per test stack, like its keys
            "run_schedules": False,
            "variables": fresh_secrets(),  # random keys per test stack: none is a constant in the repo
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
