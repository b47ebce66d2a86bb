"""The one permission matrix: which role may do which action, for every route of every function.

Every route declares an ``action`` (``"members.add"``); this module is the only place that decides
who may perform it. Deny by default: an action missing from ``MATRIX`` is refused to everyone (and a
meta-test fails on any route whose action is missing here).

Scopes say where an action applies:

- ``platform``: platform-wide (tenants, platform settings, platform audit) — platform admins only;
- ``tenant``: inside one tenant, chosen from the caller's memberships or ``x-tenant-id``;
- ``self``: about the caller (``me.read``) — any signed-in user, with or without a tenant;
- ``public``: no identity needed at all (``health.read``).

A platform admin (user label ``admin``) may act in any tenant with every tenant permission; inside a
suspended tenant its members may only read (403 ``tenant_suspended`` otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .errors import Forbidden

OWNER, ADMIN, ANALYST, VIEWER = "owner", "admin", "analyst", "viewer"
TENANT_ROLES = (OWNER, ADMIN, ANALYST, VIEWER)  # Appwrite team membership roles, strongest first
PLATFORM_ADMIN = "platform_admin"  # not a team role: the user label ``admin``
PLATFORM_ADMIN_LABEL = "admin"
ALL_ROLES = (*TENANT_ROLES, PLATFORM_ADMIN)

Scope = Literal["platform", "tenant", "self", "public"]
# Verbs that only read: still allowed to the members of a suspended tenant.
READ_VERBS = frozenset({"read", "list", "verify", "export"})


@dataclass(frozen=True)
class Rule:
    scope: Scope
    roles: frozenset[str]  # who may; PLATFORM_ADMIN is implied for tenant and self scopes


def _rule(scope: Scope, *roles: str) -> Rule:
    return Rule(scope, frozenset(roles))


_MANAGERS = (OWNER, ADMIN)
_EVERYONE = TENANT_ROLES

MATRIX: dict[str, Rule] = {
    # health (monitors, anonymous)
    "health.read": _rule("public"),
    "errors.read": _rule("public"),  # health's GET /errors: the error-code catalogue
    # every function's GET /openapi.json (added by bigtech.http.serve; no hook runs for it)
    "openapi.read": _rule("public"),
    # auth
    "me.read": _rule("self", *_EVERYONE),
    # tenants (platform)
    "tenants.create": _rule("platform"),
    "tenants.list": _rule("platform"),
    "tenants.read": _rule("platform"),
    "tenants.update": _rule("platform"),
    "tenants.suspend": _rule("platform"),
    "tenants.reactivate": _rule("platform"),
    "tenants.provision": _rule("platform"),  # the admin's retry of a failed provisioning
    # the provisioning function's run: executed with the tenants function's key; refuses every user itself
    "provisioning.run": _rule("platform"),
    "settings.read": _rule("platform"),
    "settings.update": _rule("platform"),
    "platform_audit.list": _rule("platform"),
    "platform_audit.verify": _rule("platform"),
    "platform_audit.export": _rule("platform"),
    # members (tenant owner/admin)
    "members.add": _rule("tenant", *_MANAGERS),
    "members.list": _rule("tenant", *_MANAGERS),
    "members.update": _rule("tenant", *_MANAGERS),
    "members.remove": _rule("tenant", *_MANAGERS),
    # audit (tenant owner/admin)
    "audit.list": _rule("tenant", *_MANAGERS),
    "audit.verify": _rule("tenant", *_MANAGERS),
    "audit.export": _rule("tenant", *_MANAGERS),
    "audit_key.read": _rule("self", *_EVERYONE),  # the checkpoints' public key: for any verifier
    # plugins: the catalog is public to signed-in users; a tenant's plugins are managed by owner/admin
    "plugin_catalog.list": _rule("self", *_EVERYONE),
    "plugin_catalog.sync": _rule("platform"),
    "plugins.list": _rule("tenant", *_EVERYONE),
    "plugins.configure": _rule("tenant", *_MANAGERS),
    "plugins.disable": _rule("tenant", *_MANAGERS),
    # consultas: analysts and up run them; everyone reads (analysts see only their own)
    "consultas.create": _rule("tenant", OWNER, ADMIN, ANALYST),
    "consultas.list": _rule("tenant", *_EVERYONE),
    "consultas.read": _rule("tenant", *_EVERYONE),
    # billing: own wallet and statement for everyone (managers see every member's); grants by owner/admin
    "wallet.read": _rule("tenant", *_EVERYONE),
    "ledger.list": _rule("tenant", *_EVERYONE),
    "grants.create": _rule("tenant", *_MANAGERS),
    # packages and orders: everyone sees packages and their own orders (managers everyone's); analysts+ buy
    "packages.list": _rule("tenant", *_EVERYONE),
    "orders.create": _rule("tenant", OWNER, ADMIN, ANALYST),
    "orders.list": _rule("tenant", *_EVERYONE),
    "orders.read": _rule("tenant", *_EVERYONE),
    # billing's POST /events: the relay delivers with a key (no user); the route refuses every user itself
    "billing.events": _rule("platform"),
    # mercado-atacado: owners/admins manage the tenant's API keys; the public API (/v1/*) needs no
    # member at all: its caller is an API key, checked by the function itself (docs/mercado.md)
    "apikeys.create": _rule("tenant", *_MANAGERS),
    "apikeys.list": _rule("tenant", *_MANAGERS),
    "apikeys.update": _rule("tenant", *_MANAGERS),
    "apikeys.rotate": _rule("tenant", *_MANAGERS),
    "apikeys.revoke": _rule("tenant", *_MANAGERS),
    "prices.read": _rule("tenant", *_EVERYONE),  # mercado-varejo's price list
    "public_api.consultas_create": _rule("public"),
    # consultas' POST /internal/run: the async execution of an accepted consulta, started by the function
    # itself with CORE's token (checked by the route); the member was authorized when it was accepted
    "consultas.run": _rule("public"),
    "public_api.consultas_list": _rule("public"),
    "public_api.consultas_read": _rule("public"),
    "public_api.balance_read": _rule("public"),
    "public_api.usage_read": _rule("public"),
    # billing's POST / (the reaper): run by its schedule with a key; the route refuses every user itself
    "billing.reap": _rule("platform"),
    # ops' POST / (backups, retention): run by its schedule with a key; the route refuses every user itself
    "ops.run": _rule("platform"),
    # privacy: LGPD data-subject reports — a tenant's managers for their tenant, platform admins for all
    "subject_reports.export": _rule("tenant", *_MANAGERS),
    "platform_subject_reports.export": _rule("platform"),
    # metrics: Prometheus scrapes with x-metrics-token (checked by the route), no Appwrite identity
    "metrics.read": _rule("public"),
    "metrics.compact": _rule("platform"),  # its hourly schedule, with a key; the route refuses every user
    # ops' GET /invoices: the platform's invoice report per tenant and month
    "platform_invoices.read": _rule("platform"),
    # ops' GET /usage: per-tenant usage built from the bus events; POST /events: the relay (key, no user)
    "platform_usage.read": _rule("platform"),
    "ops.events": _rule("platform"),
    # funcional-webhooks: endpoints, their log and replays are owner/admin; the retry schedule runs with a key
    "webhooks.create": _rule("tenant", *_MANAGERS),
    "webhooks.list": _rule("tenant", *_MANAGERS),
    "webhooks.read": _rule("tenant", *_MANAGERS),
    "webhooks.update": _rule("tenant", *_MANAGERS),
    "webhooks.delete": _rule("tenant", *_MANAGERS),
    "webhooks.rotate": _rule("tenant", *_MANAGERS),
    "webhooks.test": _rule("tenant", *_MANAGERS),
    "webhooks.replay": _rule("tenant", *_MANAGERS),
    "webhook_log.list": _rule("tenant", *_MANAGERS),
    "webhook_log.read": _rule("tenant", *_MANAGERS),
    "webhooks.dispatch": _rule("platform"),
    # funcional-relatorios: everyone reads reports (members only their own; costs and margins to managers)
    "reports.read": _rule("tenant", *_EVERYONE),
    "reports.export": _rule("tenant", *_EVERYONE),
    "report_jobs.create": _rule("tenant", *_EVERYONE),
    "report_jobs.read": _rule("tenant", *_EVERYONE),
    "report_jobs.run": _rule("platform"),  # the job's own asynchronous executions (key, no user)
    "documents.read": _rule("tenant", *_EVERYONE),  # stored receipts/statements/exports (docs/storage.md)
    "documents.run": _rule("platform"),  # an async export's own execution (key, no user)
}


def rule(action: str) -> Rule | None:
    return MATRIX.get(action)


def scope_of(action: str) -> Scope:
    found = MATRIX.get(action)
    return found.scope if found else "tenant"


def is_read(action: str) -> bool:
    return action.rsplit(".", 1)[-1] in READ_VERBS


def allowed(role: str | None, action: str) -> bool:
    """Whether ``role`` (a tenant role, ``PLATFORM_ADMIN`` or ``None`` for no tenant role) may do ``action``."""
    found = MATRIX.get(action)
    if found is None:
        return False
    if role == PLATFORM_ADMIN or found.scope in ("self", "public"):
        return True
    return role is not None and role in found.roles


def permissions_for(role: str | None, *, platform_admin: bool = False) -> list[str]:
    """Every action the caller may perform in its current tenant (what ``GET /me`` reports)."""
    actions = []
    for action, found in MATRIX.items():
        if found.scope == "platform":
            if platform_admin:
                actions.append(action)
        elif found.scope == "public":
            continue  # open to anyone: not a permission worth listing
        elif platform_admin or found.scope == "self" or (role is not None and role in found.roles):
            actions.append(action)
    return sorted(actions)


def check(action: str, role: str | None, *, suspended: bool = False) -> None:
    """Raise 403 unless ``role`` may perform ``action`` (and, in a suspended tenant, only reads)."""
    if not allowed(role, action):
        raise Forbidden(f"Your role may not perform {action}.", code="forbidden",
                        details={"action": action, "role": role})
    if suspended and role != PLATFORM_ADMIN and not is_read(action):
        raise Forbidden("This tenant is suspended; only reading is allowed.", code="tenant_suspended")


def can_assign(actor_role: str | None, target_role: str) -> bool:
    """Owners and platform admins may assign any role; admins every role but owner."""
    if actor_role in (OWNER, PLATFORM_ADMIN):
        return True
    return actor_role == ADMIN and target_role != OWNER


def uncovered(actions: list[tuple[str, str, str]]) -> list[str]:
    """``"METHOD path (action)"`` for every route whose action the matrix does not know (meta-tests)."""
    return [f"{method} {path} ({action})" for method, path, action in actions if action not in MATRIX]
