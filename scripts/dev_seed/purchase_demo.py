"""Demo tenant with a member who bought credits through the sandbox gateway and ran a consulta.

What ``scripts/dev`` shows end to end without the internet: the ``demo`` tenant (created through the
``tenants`` function, so it gets the default plugins: fonte/consulta sandboxes and ``pagamento-sandbox``),
an analyst ``analyst@demo.bigtech.local`` (invited by the owner, invitation accepted), an order for a
package paid by the sandbox gateway's
``POST /simulate-payment`` (a webhook signed with the tenant's own secret, run through the ``/webhook``
verification in the same execution; only where ``BIGTECH_ENV`` is development/test), the ``payment.confirmed``
event delivered to billing (what the relay does; billing dedupes, so a relay doing it too is harmless),
and one cadastral consulta paid with those credits. Idempotent: fixed idempotency keys, and a paid
order or a finished consulta is not redone.
"""

from __future__ import annotations

import json
import time
from typing import Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from bigtech.outbox_writer import envelope_from_row
from bigtech.schema.core import CORE_DATABASE_ID

from .admin import ensure_platform_admin
from .settings import SeedSettings

TENANT_ID = "demo"
OWNER_EMAIL = "owner@demo.bigtech.local"
ANALYST_EMAIL = "analyst@demo.bigtech.local"
DEMO_PASSWORD = "demo-password-123"
PACKAGE_ID = "pkg-100"
CONSULTA = {"category": "cadastral", "document": "11222333000181", "purpose": "demonstração: cadastro de cliente",
            "legal_basis": "execucao_contrato"}


class SeedError(RuntimeError):
    pass


def _as_user(settings: SeedSettings, client: Client, user_id: str) -> Functions:
    jwt = Users(client).create_jwt(user_id, duration=900).jwt
    return Functions(Client().set_endpoint(settings.endpoint).set_project(settings.project_id).set_jwt(jwt))


def _run(functions: Functions, function_id: str, method: str, path: str, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    execution = functions.create_execution(function_id, body="" if body is None else json.dumps(body), xasync=False,
                                           path=path, method=ExecutionMethod(method), headers=headers or {})
    try:
        answer = json.loads(execution.responsebody or "null")
    except ValueError:
        answer = execution.responsebody
    return int(execution.responsestatuscode or 0), answer


def _expect(status: int, answer: Any, *ok: int) -> Any:
    if status not in ok:
        raise SeedError(f"demo seed: unexpected answer {status}: {str(answer)[:300]}")
    return answer


def _user_by_email(client: Client, email: str) -> str | None:
    found = Users(client).list(queries=[Query.equal("email", [email]), Query.limit(1)])
    return found.users[0].id if found.users else None


def ensure_tenant(client: Client, settings: SeedSettings, admin: Functions) -> str:
    """The demo tenant's owner id (the tenant is created on the first run)."""
    try:
        row = TablesDB(client).get_row(CORE_DATABASE_ID, "tenants", TENANT_ID)
        return str(row.data.get("owner_user_id"))
    except AppwriteException as error:
        if error.code != 404:
            raise
    status, answer = _run(admin, "tenants", "POST", "/", {"id": TENANT_ID, "name": "Demo Ltda",
                                                         "owner_email": OWNER_EMAIL, "owner_name": "Demo Owner"})
    owner_id = str(_expect(status, answer, 202)["owner"]["id"])
    _await_provisioned(admin)
    return owner_id


def _await_provisioned(admin: Functions, seconds: float = 120.0) -> None:
    """Provisioning runs asynchronously after ``POST /`` (202): poll the tenant until it is active."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, answer = _run(admin, "tenants", "GET", f"/{TENANT_ID}")
        state = _expect(status, answer, 200)["tenant"]["provisioning"]
        if state["status"] == "active":
            return
        if state["status"] == "failed":
            raise SeedError(f"demo seed: provisioning failed: {state.get('error')}")
        time.sleep(0.2)
    raise SeedError("demo seed: the demo tenant is still provisioning")


def ensure_analyst(client: Client, settings: SeedSettings, owner: Functions) -> str:
    """The demo analyst, an active member: invited by the owner, then accepted as the invitee would, with
    the secret the local stack's mailbox holds (``GET /v1/local/invitations/last``; there is no e-mail)."""
    existing = _user_by_email(client, ANALYST_EMAIL)
    if existing is not None and _is_member(client, existing):
        return existing
    status, answer = _run(owner, "members", "POST", "/", {"email": ANALYST_EMAIL, "name": "Demo Analyst",
                                                          "role": "analyst"}, {"x-tenant-id": TENANT_ID})
    _expect(status, answer, 201)
    mail = client.call("get", "/local/invitations/last", {}, {"email": ANALYST_EMAIL})
    guest = Client().set_endpoint(settings.endpoint).set_project(settings.project_id)
    Teams(guest).update_membership_status(mail["teamId"], mail["membershipId"], mail["userId"], mail["secret"])
    return str(mail["userId"])


def _is_member(client: Client, user_id: str) -> bool:
    listed = Teams(client).list_memberships(TENANT_ID, [Query.equal("userId", [user_id]), Query.limit(1)])
    return any(m.confirm for m in listed.memberships)


def deliver_payment_events(client: Client, order_id: str) -> None:
    """The relay's job for this order's ``payment.*`` outbox rows (raw rows: SDK ``Row`` hides ``data``)."""
    from bigtech.bus.appwrite_rows import list_raw

    rows = list_raw(TablesDB(client), f"tenant_{TENANT_ID}", "outbox",
                    [Query.equal("type", ["payment.confirmed"]), Query.limit(100)])
    functions = Functions(client)
    for row in rows:
        if json.loads(row.get("payload") or "{}").get("order_id") == order_id:
            envelope = envelope_from_row(row["$id"], row)
            _expect(*_run(functions, "billing", "POST", "/events", json.loads(envelope.to_json())), 200)


def seed(client: Client, settings: SeedSettings) -> list[str]:
    """Never fatal for ``scripts/dev``: a failure is reported as a line and the platform still starts."""
    try:
        return demo(client, settings)
    except (SeedError, AppwriteException, KeyError, TypeError) as error:
        return [f"demo purchase    not seeded: {error}"]


def demo(client: Client, settings: SeedSettings) -> list[str]:
    admin_id, _ = ensure_platform_admin(client, settings.admin_email, settings.admin_password)
    admin = _as_user(settings, client, admin_id)
    owner_id = ensure_tenant(client, settings, admin)
    users = Users(client)
    users.update_password(owner_id, DEMO_PASSWORD)
    owner = _as_user(settings, client, owner_id)
    analyst_id = ensure_analyst(client, settings, owner)
    users.update_password(analyst_id, DEMO_PASSWORD)
    analyst = _as_user(settings, client, analyst_id)
    tenant = {"x-tenant-id": TENANT_ID}

    # Buy a package through the sandbox gateway (same key on every start: the same order comes back).
    status, answer = _run(analyst, "billing", "POST", "/orders", {"package_id": PACKAGE_ID, "method": "pix"},
                          {**tenant, "idempotency-key": "demo-purchase-1"})
    order = _expect(status, answer, 201)["order"]
    if order["status"] == "pending":
        current = _expect(*_run(analyst, "billing", "GET", f"/orders/{order['id']}", headers=tenant), 200)["order"]
        if current["status"] == "pending":
            _expect(*_run(analyst, "pagamento-sandbox", "POST", "/simulate-payment",
                          {"order_id": order["id"]}, tenant), 200)
        deliver_payment_events(client, order["id"])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            current = _expect(*_run(analyst, "billing", "GET", f"/orders/{order['id']}", headers=tenant), 200)
            if current["order"]["status"] != "pending":
                break
            time.sleep(0.2)
    status_now = _expect(*_run(analyst, "billing", "GET", f"/orders/{order['id']}", headers=tenant), 200)
    # Spend some of it on a consulta (same key on every start: it runs once).
    status, consulta = _run(analyst, "consultas", "POST", "/", CONSULTA,
                            {**tenant, "idempotency-key": "demo-consulta-1"})
    consulta = consulta.get("consulta") if isinstance(consulta, dict) else None
    consulta_line = (f"consulta {consulta.get('id')} {consulta.get('status')} cost {consulta.get('cost_credits')}"
                     if status in (200, 201) and isinstance(consulta, dict) else f"consulta failed ({status})")
    wallet = _expect(*_run(analyst, "billing", "GET", "/wallet", headers=tenant), 200)["wallet"]
    return [
        f"demo tenant      {TENANT_ID}: owner {OWNER_EMAIL} / {DEMO_PASSWORD}, "
        f"analyst {ANALYST_EMAIL} / {DEMO_PASSWORD}",
        f"demo purchase    order {order['id']} ({PACKAGE_ID}, pix via {order['gateway']}): "
        f"{status_now['order']['status']}; {consulta_line}; balance {wallet['balance']}",
    ]
