"""``invoke smoke``: after a deploy, prove the project answers — health, then one sandbox consulta.

Works against any Appwrite named by ``APPWRITE_*`` (an API key with ``users.read/write``,
``functions.read``, ``execution.write``, ``rows.read``), the way a user would get there:

1. ``GET /health/version`` and the ``health`` function's ``GET /`` (``status: ok``);
2. the smoke tenant (``--tenant``, default ``smoke``): created once by the platform admin
   (``BIGTECH_ADMIN_EMAIL``) through the ``tenants`` function and waited for until provisioned;
   afterwards reused, so repeated deploys add one consulta each and nothing else;
3. its owner (a JWT made with the key, as the frontends' session would give) tops up its own wallet
   with an audited grant of 1,000 credits when it holds under 500, then runs one ``cadastral``
   consulta of a fixed CNPJ with a fresh idempotency key: it must be charged and answer ``succeeded`` or ``not_found``.

Every step prints one line; the first that fails raises ``OpsError`` with what it saw.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable
from typing import Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

from .target import OpsError, Target, call

Say = Callable[[str], None]
SMOKE_DOCUMENT = "11222333000181"  # a valid CNPJ; the sandbox fonte answers it deterministically
TOP_UP_CREDITS = 1000  # a cadastral consulta costs 100 in the default price list
LOW_BALANCE = 500


def _run(functions: Functions, function_id: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    try:
        execution = functions.create_execution(function_id, body="" if body is None else json.dumps(body),
                                               xasync=False, path=path, method=ExecutionMethod(method),
                                               headers=headers or {})
    except AppwriteException as error:
        raise OpsError(f"{function_id} {method} {path}: Appwrite refused the execution "
                       f"({error.code} {error})") from None
    try:
        answer = json.loads(execution.responsebody or "null")
    except ValueError:
        answer = execution.responsebody
    return int(execution.responsestatuscode or 0), answer


def _expect(ok: bool, what: str, answer: Any) -> None:
    if not ok:
        raise OpsError(f"smoke test failed: {what}: {json.dumps(answer)[:500]}")


def _as_user(target: Target, client: Client, user_id: str) -> Functions:
    jwt = Users(client).create_jwt(user_id, duration=900).jwt
    return Functions(Client().set_endpoint(target.endpoint).set_project(target.project_id).set_jwt(jwt))


def _user_id(client: Client, email: str) -> str:
    users = Users(client).list(queries=[Query.equal("email", [email])]).users
    if not users:
        raise OpsError(f"no user {email}: run invoke bootstrap with BIGTECH_ADMIN_EMAIL (and a password once)")
    return users[0].id


def _tenant_row(tables: TablesDB, tenant_id: str) -> dict[str, Any] | None:
    try:
        return tables.get_row("core", "tenants", tenant_id).data
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise


def ensure_tenant(target: Target, client: Client, tenant_id: str, admin_email: str, owner_email: str,
                  say: Say, timeout: float = 180.0) -> str:
    """The smoke tenant's owner user id, creating and provisioning the tenant the first time."""
    tables = TablesDB(client)
    row = _tenant_row(tables, tenant_id)
    if row is None:
        admin = _as_user(target, client, _user_id(client, admin_email))
        status, answer = _run(admin, "tenants", "POST", "/", {"id": tenant_id, "name": "Smoke test",
                                                              "owner_email": owner_email, "owner_name": "Smoke"})
        _expect(status in (201, 202), f"creating tenant {tenant_id} answered {status}", answer)
        say(f"smoke: tenant {tenant_id} created, provisioning")
    deadline = time.monotonic() + timeout
    while True:
        row = _tenant_row(tables, tenant_id) or {}
        provisioning = row.get("provisioning") or "active"
        _expect(provisioning != "failed", f"tenant {tenant_id} provisioning failed", row.get("provisioning_error"))
        if row.get("status") == "active" and provisioning == "active" and row.get("owner_user_id"):
            return str(row["owner_user_id"])
        _expect(row.get("status") != "suspended", f"tenant {tenant_id} is suspended", row.get("status"))
        _expect(time.monotonic() < deadline, f"tenant {tenant_id} not active after {timeout:.0f} s", row)
        time.sleep(1.0)


def smoke(target: Target, *, tenant_id: str = "smoke", admin_email: str | None = None,
          owner_email: str | None = None, say: Say = print) -> dict[str, Any]:
    client = target.client()
    version = call(client, "get", "/health/version")
    say(f"smoke: Appwrite {version.get('version')} at {target.endpoint}")
    functions = Functions(client)
    status, answer = _run(functions, "health", "GET", "/")
    _expect(status == 200 and isinstance(answer, dict) and answer.get("status") == "ok", "health", answer)
    say(f"smoke: health ok (version {answer.get('version')})")

    admin_email = admin_email or os.environ.get("BIGTECH_ADMIN_EMAIL", "")
    if not admin_email:
        raise OpsError("set BIGTECH_ADMIN_EMAIL (the platform admin who creates the smoke tenant)")
    owner_email = owner_email or os.environ.get("BIGTECH_SMOKE_OWNER_EMAIL") or f"smoke-owner@{tenant_id}.invalid"
    owner_id = ensure_tenant(target, client, tenant_id, admin_email, owner_email, say)
    owner = _as_user(target, client, owner_id)
    tenant = {"x-tenant-id": tenant_id}
    status, wallet = _run(owner, "billing", "GET", "/wallet", headers=tenant)
    _expect(status == 200, "reading the smoke wallet", wallet)
    balance = int(wallet["wallet"]["balance"])
    if balance < LOW_BALANCE:
        status, granted = _run(owner, "billing", "POST", "/grants",
                               {"user_id": owner_id, "credits": TOP_UP_CREDITS, "reason": "smoke test top-up"},
                               {**tenant, "idempotency-key": f"smoke-grant-{uuid.uuid4().hex}"})
        _expect(status == 201, "topping up the smoke wallet", granted)
        balance += TOP_UP_CREDITS
        say(f"smoke: wallet topped up to {balance} credits")
    status, consulta = _run(owner, "consultas", "POST", "/", {
        "category": "cadastral", "document": SMOKE_DOCUMENT, "purpose": "smoke test after deploy",
        "legal_basis": "execucao_contrato"}, {**tenant, "idempotency-key": f"smoke-{uuid.uuid4().hex}"})
    _expect(status in (200, 201) and isinstance(consulta, dict), f"the consulta answered {status}", consulta)
    item = consulta.get("consulta", consulta)
    _expect(item.get("status") in ("succeeded", "not_found"), "the consulta did not succeed", consulta)
    say(f"smoke: consulta {item.get('id')} {item.get('status')}, {item.get('cost_credits')} credits")
    return {"ok": True, "appwrite": version.get("version"), "tenant": tenant_id, "consulta": item.get("id"),
            "status": item.get("status"), "cost_credits": item.get("cost_credits")}


__all__ = ["SMOKE_DOCUMENT", "ensure_tenant", "smoke"]
