"""Actors for tests on the local stack: users, JWTs, platform admins, tenants, and calling a function
as a user through the executions API (the stack sets ``x-appwrite-user-id`` from the JWT)."""

from __future__ import annotations

import importlib
import itertools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.id import ID
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from bigtech.schema import provision_core
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.tenancy import PROVISION_ACTIVE, PROVISIONING, TENANTS_TABLE
from tests.conftest import make_client

JWT_SECONDS = 3600
REPO_ROOT = Path(__file__).resolve().parents[2]
CORE_FUNCTIONS = ("auth", "tenants", "members", "audit")
_counter = itertools.count()


def unique_suffix() -> str:
    return f"{time.time_ns() % 10**10:010d}{next(_counter)}"


@dataclass
class Result:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def error_code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return self.body["error"].get("code")
        return None

    def __repr__(self) -> str:
        return f"Result({self.status}, {self.raw[:300]!r})"

    def unwrapped(self, name: str) -> Result:
        """This answer with a successful body's ``{name: resource}`` wrapper checked and taken off
        (docs/api-style.md: single resources are wrapped by their name); errors are left as they are."""
        if self.status >= 300 or not isinstance(self.body, dict):
            return self
        assert isinstance(self.body.get(name), dict), f"expected {{{name!r}: …}}, got {self.raw[:200]}"
        return Result(self.status, self.body[name], self.headers, self.raw)


def call(stack: Any, jwt: str | None, function_id: str, method: str = "GET", path: str = "/",
         body: Any = None, headers: dict[str, str] | None = None, raw_body: str | None = None) -> Result:
    """Run ``function_id`` synchronously as the JWT's user (or with the dev key when ``jwt`` is None)."""
    client = make_client(stack, jwt=jwt) if jwt else make_client(stack)
    payload = raw_body if raw_body is not None else ("" if body is None else json.dumps(body))
    execution = Functions(client).create_execution(
        function_id, body=payload, xasync=False, path=path, method=ExecutionMethod(method), headers=headers or {},
    )
    text = execution.responsebody or ""
    response_headers = {h.name.lower(): h.value for h in (execution.responseheaders or [])}
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Result(int(execution.responsestatuscode), parsed, response_headers, text)


@dataclass
class Actor:
    """A signed-in user: ``actor.call("members", "POST", "/", {...})``."""

    stack: Any
    user_id: str
    email: str
    jwt: str
    tenant_id: str | None = None  # sent as x-tenant-id when set

    def call(self, function_id: str, method: str = "GET", path: str = "/", body: Any = None,
             headers: dict[str, str] | None = None, tenant: str | None = None, **kwargs: Any) -> Result:
        sent = dict(headers or {})
        chosen = tenant or self.tenant_id
        if chosen:
            sent.setdefault("x-tenant-id", chosen)
        return call(self.stack, self.jwt, function_id, method, path, body, sent, **kwargs)


def load_router(function_id: str) -> Any:
    """The ``Router`` of ``functions/<id>/src/main.py``, imported as the runtime would (a package)."""
    from local_appwrite.runner.loader import bind_package, forget

    package = f"_routes_{function_id}"
    forget(package)
    bind_package(package, REPO_ROOT / "functions" / function_id)
    return importlib.import_module(f"{package}.src.main").router


def key_client(stack: Any) -> Client:
    return make_client(stack)


def ensure_core(stack: Any) -> None:
    """Provision the core database (idempotent); what ``scripts/dev`` seeding does on a real stack."""
    if not getattr(stack, "_core_provisioned", False):
        provision_core(TablesDB(make_client(stack)))
        stack._core_provisioned = True


def create_user(stack: Any, *, email: str | None = None, name: str | None = None,
                labels: tuple[str, ...] = ()) -> Actor:
    users = Users(make_client(stack))
    email = email or f"user-{unique_suffix()}@example.com"
    user = users.create(ID.unique(), email=email, password="password-123", name=name or email.split("@")[0])
    if labels:
        users.update_labels(user.id, list(labels))
    return actor_for(stack, user.id, email)


def actor_for(stack: Any, user_id: str, email: str = "", tenant_id: str | None = None) -> Actor:
    jwt = Users(make_client(stack)).create_jwt(user_id, duration=JWT_SECONDS).jwt
    return Actor(stack, user_id, email, jwt, tenant_id)


def platform_admin(stack: Any) -> Actor:
    ensure_core(stack)
    return create_user(stack, name="Platform Admin", labels=("admin",))


def tenant_id_for(prefix: str) -> str:
    return f"{prefix}-{unique_suffix()}"[:29]


def create_tenant(stack: Any, admin: Actor, tenant_id: str | None = None, *, name: str | None = None,
                  owner_email: str | None = None) -> tuple[str, Actor]:
    """A tenant created through the ``tenants`` function and provisioned (``active``); its id and its owner.

    ``POST /`` answers 202 ``provisioning`` and the provisioning runs asynchronously: this waits for it.
    """
    tenant_id = tenant_id or tenant_id_for("t")
    owner_email = owner_email or f"owner-{unique_suffix()}@example.com"
    result = admin.call("tenants", "POST", "/", {"id": tenant_id, "name": name or f"Tenant {tenant_id}",
                                                 "owner_email": owner_email, "owner_name": "Owner"})
    assert result.status == 202, result
    wait_until_provisioned(admin, tenant_id)
    owner_id = result.body["owner"]["id"]
    return tenant_id, actor_for(stack, owner_id, owner_email)


def read_invitation(stack: Any, email: str) -> dict[str, Any]:
    """The last invitation e-mail sent to ``email`` (the local stack's mailbox, ``/v1/local/invitations/last``)."""
    return make_client(stack).call("get", "/local/invitations/last", {}, {"email": email})


def accept_invitation(stack: Any, email: str) -> str:
    """What the invitee's browser does with the e-mail's link: ``teams.updateMembershipStatus`` without any
    credential (the secret is the proof). Returns the invitee's user id."""
    mail = read_invitation(stack, email)
    guest = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    Teams(guest).update_membership_status(mail["teamId"], mail["membershipId"], mail["userId"], mail["secret"])
    wait_for_join(stack, mail["teamId"], mail["membershipId"])
    return mail["userId"]


def wait_for_join(stack: Any, tenant_id: str, membership_id: str, timeout: float = 15.0) -> None:
    """The acceptance event runs ``members`` asynchronously, which audits the join; wait until that entry is
    sealed, so a test's "nothing changed" snapshot taken next is not disturbed by it."""
    from appwrite.query import Query

    tables = TablesDB(make_client(stack))
    queries = [Query.equal("action", ["members.join"]), Query.equal("resource_id", [membership_id]), Query.limit(1)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = tables.list_rows(f"tenant_{tenant_id}", "audit", queries).rows
        if rows and rows[0].data.get("seq"):
            return
        time.sleep(0.05)
    raise AssertionError(f"the join of {membership_id} in {tenant_id} was not audited")


def wait_until_provisioned(admin: Actor, tenant_id: str, seconds: float = 60.0) -> dict[str, Any]:
    """Wait until provisioning ends, then ``GET /{tenant_id}`` once; the tenant (asserting it became ``active``).

    The wait watches the tenant's core row (one ``getRow`` per look) instead of polling ``GET /{tenant_id}``:
    each look through the ``tenants`` function is a whole execution (authentication, metrics: about ten API
    calls), and the suite creates over a hundred tenants, so the polls cost more CPU than the provisioning.
    """
    tables = TablesDB(make_client(admin.stack))
    deadline = time.monotonic() + seconds
    delay = 0.02
    while True:
        row = tables.get_row(CORE_DATABASE_ID, TENANTS_TABLE, tenant_id)
        if (row.data.get("provisioning") or PROVISION_ACTIVE) != PROVISIONING:
            break
        assert time.monotonic() < deadline, f"tenant {tenant_id} still provisioning after {seconds} s"
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)
    tenant = admin.call("tenants", "GET", f"/{tenant_id}").body["tenant"]
    assert tenant["provisioning"]["status"] == "active", tenant
    return tenant


def add_member(owner: Actor, role: str, *, email: str | None = None) -> Actor:
    """Invite ``email`` into the owner's tenant and accept the invitation as the invitee would."""
    email = email or f"{role}-{unique_suffix()}@example.com"
    result = owner.call("members", "POST", "/", {"email": email, "name": role.title(), "role": role})
    assert result.status == 201, result
    return actor_for(owner.stack, accept_invitation(owner.stack, email), email)
