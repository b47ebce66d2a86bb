"""Developer tasks (``invoke --list``): dev, test, lint, build, deploy, bootstrap, migrate, bench, schedule,
audit-verify, backup, restore, smoke, openapi.

The shell scripts stay the entry points that work on a fresh machine (``scripts/dev``,
``scripts/test``); these tasks wrap them and add what needs a running stack or the Appwrite CLI.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path

from invoke import Context, Exit, task

REPO_ROOT = Path(__file__).resolve().parent
PYTHON = sys.executable
PYTHONPATH = os.pathsep.join([str(REPO_ROOT / "shared"), str(REPO_ROOT / "scripts")])
DEFAULT_BUILD_OUT = REPO_ROOT / "build" / "functions"


def _env() -> dict[str, str]:
    existing = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": PYTHONPATH + (os.pathsep + existing if existing else "")}


def _pty() -> bool:
    return sys.stdout.isatty()


@task(help={"args": "extra arguments for python -m local_appwrite (e.g. '--mode build')"})
def dev(c: Context, args: str = "") -> None:
    """Run the local platform (local Appwrite + functions + seed) until Ctrl-C."""
    c.run(f"{REPO_ROOT / 'scripts' / 'dev'} {args}", pty=_pty())


@task(help={"args": "extra arguments for pytest (e.g. 'tests/unit -k router')",
            "all": "every test, the slow ones too (what CI runs)"})
def test(c: Context, args: str = "", all: bool = False) -> None:  # `all`: the name of invoke's --all flag
    """Lint, then run the tests (without those marked slow unless --all)."""
    c.run(f"{REPO_ROOT / 'scripts' / 'test'} {'--all ' if all else ''}{args}", pty=_pty())


@task(help={"fix": "apply ruff's automatic fixes"})
def lint(c: Context, fix: bool = False) -> None:
    """ruff check the whole repository."""
    with c.cd(str(REPO_ROOT)):
        c.run(f"{shlex.quote(PYTHON)} -m ruff check . {'--fix' if fix else ''}")


@task(
    iterable=["only"],
    help={"only": "build only this function id (repeatable)", "out": f"output folder (default {DEFAULT_BUILD_OUT})"},
)
def build(c: Context, only: list[str] | None = None, out: str = "") -> None:
    """Vendor shared/bigtech into every function of appwrite.json (build/functions/<id>/)."""
    command = [PYTHON, str(REPO_ROOT / "scripts" / "build_functions.py")]
    for function_id in only or []:
        command += ["--only", function_id]
    if out:
        command += ["--out", out]
    c.run(shlex.join(command))


def _ops():  # type: ignore[no-untyped-def]
    """The target (APPWRITE_*, environment then .env) and the operations package (scripts/appwrite_ops)."""
    for folder in (REPO_ROOT / "shared", REPO_ROOT / "scripts"):
        if str(folder) not in sys.path:
            sys.path.insert(0, str(folder))
    from appwrite_ops.target import OpsError, Target

    try:
        return Target.from_env(), OpsError
    except OpsError as error:
        raise Exit(str(error), code=2) from None


@task(
    iterable=["only"],
    help={"out": f"build folder to push from (default {DEFAULT_BUILD_OUT})",
          "only": "deploy only this function id (repeatable)"},
)
def deploy(c: Context, out: str = "", only: list[str] | None = None) -> None:
    """Build, then push the functions with the Appwrite CLI 12 (.tools/) to APPWRITE_ENDPOINT/PROJECT_ID/API_KEY."""
    target, ops_error = _ops()
    from appwrite_ops.cli import find_cli, push_functions

    try:
        cli = find_cli()
    except ops_error as error:
        raise Exit(str(error), code=1) from None
    build(c, only=only, out=out)
    folder = Path(out) if out else DEFAULT_BUILD_OUT
    print(f"deploying to {target.endpoint} (project {target.project_id})")
    try:
        active = push_functions(target, folder, only=only or None, cli=cli)
    except ops_error as error:
        raise Exit(str(error), code=1) from None
    for function_id, deployment_id in active.items():
        print(f"{function_id:<24} active deployment {deployment_id}")


@task(help={"overwrite_secrets": "replace existing secret variables with the environment's values"})
def bootstrap(c: Context, overwrite_secrets: bool = False) -> None:
    """Prepare the APPWRITE_* project via the API: functions, BIGTECH_* variables, core database, settings, admin."""
    target, ops_error = _ops()
    from appwrite_ops.bootstrap import bootstrap as run_bootstrap

    try:
        run_bootstrap(target, overwrite_secrets=overwrite_secrets)
    except ops_error as error:
        raise Exit(str(error), code=1) from None


@task(iterable=["tenant"], help={"tenant": "migrate only this tenant id (repeatable)",
                                 "dry_run": "only say what would be applied"})
def migrate(c: Context, tenant: list[str] | None = None, dry_run: bool = False) -> None:
    """Apply the tenant schema migrations (versioned, per tenant, resumable) on the APPWRITE_* project."""
    target, _ops_error = _ops()
    from appwrite.services.tables_db import TablesDB

    from bigtech.schema.migrations import migrate as run_migrate

    results = run_migrate(TablesDB(target.client()), only=tenant or None, dry_run=dry_run)
    failed = [r.tenant_id for r in results if r.error]
    if failed:
        raise Exit(f"{len(failed)} tenant(s) failed: {', '.join(failed)}; rerun invoke migrate to resume", code=1)


@task(help={"only": "run only the benchmarks whose name contains this text"})
def bench(c: Context, only: str = "") -> None:
    """Run the benchmarks in scripts/bench (each starts its own local stack)."""
    command = [PYTHON, "-m", "bench.run"] + (["--only", only] if only else [])
    with c.cd(str(REPO_ROOT)):
        c.run(shlex.join(command), env=_env(), pty=_pty())


@task(help={"function": "id of the function whose schedule to trigger now"})
def schedule(c: Context, function: str) -> None:
    """Run a function's scheduled execution now on the running local stack (local-only route)."""
    import httpx

    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from local_appwrite.stack_settings import StackSettings

    settings = StackSettings.from_env()
    url = f"{settings.endpoint}/local/functions/{function}/schedule"
    headers = {"x-appwrite-project": settings.project_id, "x-appwrite-key": settings.api_key}
    try:
        response = httpx.post(url, headers=headers, timeout=60)
    except httpx.HTTPError as error:
        message = f"Could not reach the local stack at {settings.endpoint} ({error}). Is scripts/dev running?"
        raise Exit(message, code=1) from None
    try:
        print(json.dumps(response.json(), indent=2))
    except ValueError:
        print(response.text)
    if response.is_error:
        raise Exit(f"schedule failed with HTTP {response.status_code}", code=1)


def _bus(c: Context, arguments: list[str]) -> None:
    """``python -m bigtech.bus …`` with the environment (and .env) of this checkout."""
    from dotenv import load_dotenv

    load_dotenv(REPO_ROOT / ".env", override=False)
    with c.cd(str(REPO_ROOT)):
        c.run(shlex.join([PYTHON, "-m", "bigtech.bus", *arguments]), env=_env(), pty=_pty())


@task(help={"subscriber": "subscriber (function) id; repeat for several (default: BIGTECH_BUS_SUBSCRIBERS)"},
      iterable=["subscriber"])
def bus_status(c: Context, subscriber: list[str] | None = None) -> None:
    """Event bus: queue depths and dead letters (with their reasons) per subscriber; RabbitMQ or direct mode."""
    _bus(c, ["status", *(subscriber or [])])


@task(help={"subscriber": "subscriber (function) id whose dead letters to resend; repeatable",
            "limit": "resend at most this many per subscriber"}, iterable=["subscriber"])
def bus_replay(c: Context, subscriber: list[str] | None = None, limit: int = 0) -> None:
    """Event bus: resend a subscriber's dead letters (to that subscriber only); the next relay run delivers them."""
    if not subscriber:
        raise Exit("name the subscriber: invoke bus-replay --subscriber <function id>", code=2)
    _bus(c, ["replay", *subscriber, *(["--limit", str(limit)] if limit else [])])


@task
def schema(c: Context) -> None:
    """Print the core database in the CLI's appwrite.json format (for reading only: never push tables)."""
    c.run(f"{shlex.quote(PYTHON)} -m bigtech.schema.appwrite_json", env=_env(), pty=_pty())


@task(help={"check": "only say whether appwrite.json is up to date (exit 1 when not)"})
def functions(c: Context, check: bool = False) -> None:
    """Regenerate appwrite.json's functions from the function folders (function.json, plugin.json)."""
    command = [PYTHON, str(REPO_ROOT / "scripts" / "function_entries.py"), *(["--check"] if check else [])]
    c.run(shlex.join(command), env=_env(), pty=_pty())


@task(iterable=["public_key"],
      help={"trail": "GET /audit/export?format=json (or the CSV export)",
            "checkpoints": "GET /audit/checkpoints/export",
            "public_key": "base64 Ed25519 public key, or @file; repeat for rotated keys"})
def audit_verify(c: Context, trail: str, checkpoints: str, public_key: list[str] | None = None) -> None:
    """Verify an exported audit trail offline against its signed checkpoints (docs/audit.md)."""
    if not public_key:
        raise Exit("give the public key: invoke audit-verify --trail F --checkpoints F --public-key KEY", code=2)
    keys = " ".join(f"--public-key {shlex.quote(key)}" for key in public_key)
    c.run(f"{shlex.quote(PYTHON)} -m bigtech.audit.offline --trail {shlex.quote(trail)} "
          f"--checkpoints {shlex.quote(checkpoints)} {keys}", env=_env(), pty=_pty())


def _run_ops(c: Context, arguments: list[str]) -> None:
    """``python -m bigtech.ops …`` with the environment (and .env) of this checkout."""
    from dotenv import load_dotenv

    load_dotenv(REPO_ROOT / ".env", override=False)
    with c.cd(str(REPO_ROOT)):
        c.run(shlex.join([PYTHON, "-m", "bigtech.ops", *arguments]), env=_env(), pty=_pty())


@task(help={"tenant": "back up only this tenant (default: the core and every tenant)",
            "full": "a full backup even when an incremental one would do"})
def backup(c: Context, tenant: str = "", full: bool = False) -> None:
    """Back up to S3 (BIGTECH_BACKUP_BUCKET/PREFIX, BIGTECH_S3_ENDPOINT_URL, AWS_*) the stack at APPWRITE_ENDPOINT."""
    _run_ops(c, ["backup", *(["--tenant", tenant] if tenant else []), *(["--full"] if full else [])])


@task(help={"tenant": "the tenant to restore", "core": "restore the core database instead (runbook in "
            "docs/operations.md)", "backup": "backup id (default: the latest)",
            "to": "restore into tenant_<TO> (with --core: database TO) instead of the original database",
            "yes": "replace an existing database without asking",
            "dry_run": "verify the backup and report what would be written; write nothing"})
def restore(c: Context, tenant: str = "", core: bool = False, backup: str = "", to: str = "", yes: bool = False,
            dry_run: bool = False) -> None:
    """Restore a tenant's (or the core) database from S3, verifying hashes, counts, ledger sums, the audit chain
    and its signed checkpoints first."""
    if bool(tenant) == core:
        raise Exit("name one: invoke restore --tenant ID, or invoke restore --core", code=2)
    which = ["--tenant", tenant] if tenant else ["--core"]
    _run_ops(c, ["restore", *which, *(["--backup", backup] if backup else []), *(["--to", to] if to else []),
                 *(["--yes"] if yes else []), *(["--dry-run"] if dry_run else [])])


@task(help={"tenant": "the smoke tenant (created once by BIGTECH_ADMIN_EMAIL, then reused; default smoke)"})
def smoke(c: Context, tenant: str = "smoke") -> None:
    """After a deploy: health, then one sandbox consulta on the smoke tenant, against APPWRITE_* (docs/deploy.md)."""
    target, ops_error = _ops()
    from appwrite_ops.smoke import smoke as run_smoke

    try:
        result = run_smoke(target, tenant_id=tenant)
    except ops_error as error:
        raise Exit(str(error), code=1) from None
    print(json.dumps(result))


@task(help={"check": "write nothing; fail if a committed document is out of date"})
def openapi(c: Context, check: bool = False) -> None:
    """Write docs/openapi/<function>.json, docs/openapi/bigtech.json and docs/errors.md from the code."""
    with c.cd(str(REPO_ROOT)):
        c.run(shlex.join([PYTHON, "scripts/openapi_docs.py", *(["--check"] if check else [])]), env=_env())
