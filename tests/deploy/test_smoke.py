"""``invoke smoke`` (the deploy pipeline's last step) against the local stack, named only by APPWRITE_*:
the first run creates and provisions the smoke tenant, tops up its wallet and runs one consulta; the
next run reuses the tenant and adds one consulta; a project it cannot reach fails with the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from appwrite.services.tables_db import TablesDB
from appwrite_ops.smoke import smoke
from appwrite_ops.target import Target

from tests.conftest import make_client
from tests.support.actors import platform_admin, tenant_id_for

ROOT = Path(__file__).resolve().parents[2]


def run_invoke(stack, tenant_id: str, admin_email: str, endpoint: str | None = None):
    env = {**os.environ, "APPWRITE_ENDPOINT": endpoint or stack.endpoint,
           "APPWRITE_PROJECT_ID": stack.settings.project_id, "APPWRITE_API_KEY": stack.settings.api_key,
           "BIGTECH_ADMIN_EMAIL": admin_email}
    return subprocess.run([sys.executable, "-m", "invoke", "smoke", "--tenant", tenant_id], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_invoke_smoke_runs_health_and_one_consulta_then_reuses_its_tenant(stack):
    admin = platform_admin(stack)
    tenant_id = tenant_id_for("smoke")
    first = run_invoke(stack, tenant_id, admin.email)
    assert first.returncode == 0, first.stdout + first.stderr
    result = json.loads(first.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["status"] in ("succeeded", "not_found") and result["cost_credits"] > 0
    assert "health ok" in first.stdout and "created, provisioning" in first.stdout
    assert "topped up" in first.stdout

    target = Target(stack.endpoint, stack.settings.project_id, stack.settings.api_key)
    lines: list[str] = []
    again = smoke(target, tenant_id=tenant_id, admin_email=admin.email, say=lines.append)
    assert again["consulta"] != result["consulta"]
    assert not any("created" in line or "topped up" in line for line in lines), lines
    consultas = TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", "consultas").rows
    assert {row.id for row in consultas} == {result["consulta"], again["consulta"]}


def test_invoke_smoke_fails_with_the_reason_when_the_project_is_unreachable(stack):
    done = run_invoke(stack, "smoke", "nobody@example.com", endpoint="http://127.0.0.1:9/v1")
    assert done.returncode != 0
