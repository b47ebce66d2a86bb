"""``invoke bootstrap``'s variables: what reaches a server, and what a rerun may change."""

from __future__ import annotations

import os

import pytest
from appwrite_ops.bootstrap import ensure_functions, ensure_variables, function_variables
from appwrite_ops.target import OpsError, Target

from tests.conftest import make_client


def test_only_function_settings_from_the_process_environment_are_sent():
    env = {"BIGTECH_SECRETS_KEY": "k", "BIGTECH_ENV": "production", "BIGTECH_DATA_DIR": ".data",
           "BIGTECH_ADMIN_PASSWORD": "p", "BIGTECH_EMPTY": "", "APPWRITE_API_KEY": "x", "HOME": "/root"}
    assert function_variables(env) == {"BIGTECH_ENV": "production", "BIGTECH_SECRETS_KEY": "k"}


def test_the_target_reads_only_appwrite_settings_from_dotenv(tmp_path, monkeypatch):
    for name in ("APPWRITE_ENDPOINT", "APPWRITE_PROJECT_ID", "APPWRITE_API_KEY", "BIGTECH_SECRETS_KEY"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("APPWRITE_ENDPOINT=http://dev/v1/\nAPPWRITE_PROJECT_ID=p\nBIGTECH_SECRETS_KEY=dev-key\n")
    with pytest.raises(OpsError, match="APPWRITE_API_KEY"):
        Target.from_env(env_file)
    monkeypatch.setenv("APPWRITE_API_KEY", "key")
    assert Target.from_env(env_file) == Target("http://dev/v1", "p", "key")
    assert "BIGTECH_SECRETS_KEY" not in os.environ  # the dev key never becomes a variable to send


def test_reruns_create_nothing_twice_and_keep_secrets_unless_asked(stack):
    client = make_client(stack)
    function_id = f"boot-{os.urandom(3).hex()}"
    entry = {"$id": function_id, "name": function_id, "runtime": "python-3.12", "execute": [], "timeout": 15,
             "entrypoint": "src/main.py", "commands": "", "scopes": []}
    lines: list[str] = []
    assert ensure_functions(client, [entry], lines.append) == [function_id]
    assert ensure_functions(client, [entry], lines.append) == []
    values = {"BIGTECH_ENV": "production", "BIGTECH_SECRETS_KEY": "first-key"}
    assert ensure_variables(client, [function_id], values, lines.append) == 2
    assert ensure_variables(client, [function_id], values, lines.append) == 0
    stored = stack.functions.registry.variable_values
    changed = {"BIGTECH_ENV": "staging", "BIGTECH_SECRETS_KEY": "a-different-key"}
    assert ensure_variables(client, [function_id], changed, lines.append) == 1
    assert stored(function_id) == {"BIGTECH_ENV": "staging", "BIGTECH_SECRETS_KEY": "first-key"}
    assert "existing secrets kept (BIGTECH_SECRETS_KEY)" in lines[-1]
    assert ensure_variables(client, [function_id], changed, lines.append, overwrite_secrets=True) == 1
    assert stored(function_id)["BIGTECH_SECRETS_KEY"] == "a-different-key"
