"""``invoke deploy``: push the built functions with the real Appwrite CLI (``appwrite-cli`` 12).

The CLI comes from ``.tools/`` (``scripts/install_appwrite_cli.sh``, run by ``scripts/bootstrap.sh``;
``BIGTECH_APPWRITE_CLI`` names another binary). It keeps its settings, the API key included, in
``~/.appwrite``: every run gets a throw-away ``HOME``, so the operator's own CLI login is never read
or changed and no key stays on disk. ``appwrite client`` is told the target (it probes
``/health/version``), then ``appwrite push functions --all --force`` runs in the build folder, whose
``appwrite.json`` names no endpoint or project (the CLI would prefer them). The CLI does not fail
its exit code when a deployment fails, so afterwards every function is checked through the API:
its active deployment must be the newest one, and ``ready``; otherwise the build logs are shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from appwrite.exception import AppwriteException
from appwrite.query import Query

from .target import REPO_ROOT, OpsError, Target, call

CLI_BIN = REPO_ROOT / ".tools" / "node_modules" / ".bin" / "appwrite"
INSTALLER = REPO_ROOT / "scripts" / "install_appwrite_cli.sh"
PUSH_TIMEOUT_SECONDS = 1800


def find_cli(install: bool = True) -> Path:
    configured = os.environ.get("BIGTECH_APPWRITE_CLI")
    if configured:
        return Path(configured)
    if not CLI_BIN.exists() and install and INSTALLER.exists():
        subprocess.run([str(INSTALLER)], check=False)  # noqa: S603 - our own script
    if not CLI_BIN.exists():
        raise OpsError(
            "The Appwrite CLI is not installed in .tools/: run scripts/install_appwrite_cli.sh "
            "(needs npm and the npm registry), then invoke deploy again."
        )
    return CLI_BIN


def _run(command: list[str], cwd: Path, env: dict[str, str], say: Callable[[str], None]) -> str:
    completed = subprocess.run(  # noqa: S603 - the CLI binary and fixed arguments
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=PUSH_TIMEOUT_SECONDS, check=False,
    )
    output = (completed.stdout + completed.stderr).strip()
    shown = " ".join(part if not part.startswith("standard_") else "***" for part in command[1:3])
    say(f"$ appwrite {shown} ...\n{output}" if output else f"$ appwrite {shown} ...")
    if completed.returncode != 0:
        raise OpsError(f"appwrite {command[1]} failed (exit code {completed.returncode}).")
    return output


def push_functions(target: Target, build_dir: Path, only: list[str] | None = None,
                   say: Callable[[str], None] = print, cli: Path | None = None) -> dict[str, str]:
    """Push every function of ``build_dir/appwrite.json`` (or ``only``) → {function id: active deployment}."""
    manifest = json.loads((build_dir / "appwrite.json").read_text(encoding="utf-8"))
    function_ids = [f["$id"] for f in manifest.get("functions", []) if not only or f["$id"] in only]
    if not function_ids:
        raise OpsError(f"No functions to push in {build_dir / 'appwrite.json'}.")
    binary = str(cli or find_cli())
    with tempfile.TemporaryDirectory(prefix="appwrite-cli-home-") as home:
        env = {**os.environ, "HOME": home, "NO_COLOR": "1", "CI": "1"}
        _run([binary, "client", "--endpoint", target.endpoint, "--project-id", target.project_id,
              "--key", target.api_key], build_dir, env, lambda _line: say("appwrite client: configured"))
        selection = ["--all"] if not only else [arg for fid in function_ids for arg in ("--function-id", fid)]
        if only and len(function_ids) > 1:
            selection = ["--id", *function_ids]
        _run([binary, "push", "functions", *selection, "--force"], build_dir, env, say)
    return verify(target, function_ids)


def verify(target: Target, function_ids: list[str]) -> dict[str, str]:
    """Each function's newest deployment must be ready and active; else OpsError with its build logs."""
    client = target.client()
    active: dict[str, str] = {}
    problems = []
    for function_id in function_ids:
        try:
            fn = call(client, "get", f"/functions/{function_id}")
            latest = call(client, "get", f"/functions/{function_id}/deployments",
                          {"queries": [Query.order_desc("$createdAt"), Query.limit(1)]}).get("deployments", [])
        except AppwriteException as error:
            problems.append(f"{function_id}: {error.message}")
            continue
        if not latest:
            problems.append(f"{function_id}: no deployment was created")
        elif latest[0]["status"] != "ready":
            logs = str(latest[0].get("buildLogs") or "")[-2000:]
            problems.append(f"{function_id}: deployment {latest[0]['$id']} is {latest[0]['status']}\n{logs}")
        elif fn.get("deploymentId") != latest[0]["$id"]:
            problems.append(f"{function_id}: deployment {latest[0]['$id']} is ready but not active")
        else:
            active[function_id] = latest[0]["$id"]
    if problems:
        raise OpsError("Deploy incomplete:\n" + "\n".join(problems))
    return active
