"""Who sees what: owners/admins (and platform admins) the whole tenant, with provider costs; everyone else
only their own consultas, ledger and orders, without costs. Also the tenant's plugin config."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bigtech import platform_settings
from bigtech.appwrite_access import tables as tables_of
from bigtech.errors import Forbidden, NotFound, Unprocessable
from bigtech.http import Request
from bigtech.identity import current
from bigtech.payments.tenant_config import load_plugin_config
from bigtech.permissions import ADMIN, OWNER, PLATFORM_ADMIN
from bigtech.tenancy import valid_tenant_id

from .readers import Reader

PLUGIN_ID = "funcional-relatorios"
MANAGERS = frozenset({OWNER, ADMIN, PLATFORM_ADMIN})


@dataclass
class Viewer:
    user_id: str
    tenant_id: str
    tenant_name: str
    manager: bool
    member: str | None  # whose data: None = the whole tenant (managers only)
    config: dict[str, Any]
    reader: Reader
    tables: Any

    @property
    def issuer(self) -> str:
        return self.config.get("company_name") or self.tenant_name

    def credit_value_cents(self) -> int:
        self.reader.calls += 1
        return platform_settings.load(self.tables)[0].credit_value_cents

    def may_see(self, owner_id: str | None) -> bool:
        return self.manager or owner_id == self.user_id


def viewer(request: Request) -> Viewer:
    identity = current(request)
    tenant = identity.require_tenant()
    tables = tables_of(request)
    config = load_plugin_config(tables, tenant.id, PLUGIN_ID)
    if config is None:
        raise NotFound("Reports are not enabled for this tenant.", code="plugin_not_enabled")
    manager = identity.role in MANAGERS
    asked = request.query.get("member") or None
    if asked is not None and (len(asked) > 36 or not asked.replace("-", "").replace("_", "").isalnum()):
        raise Unprocessable.field("member", "a user id")
    member = (asked if manager else identity.user_id)
    return Viewer(identity.user_id, tenant.id, tenant.name, manager, member, config,
                  Reader(tables, identity.database_id), tables)


def background_target(request: Request, id_field: str, what: str) -> tuple[str, str]:
    """``(tenant_id, row id)`` of a background run (the plugin's own asynchronous execution of a job or an
    export: a key, no user); anything else is refused."""
    if request.user_id:
        raise Forbidden(f"{what} run by themselves.", code="core_only")
    body = request.json()
    tenant_id, row_id = (body.get("tenant_id"), body.get(id_field)) if isinstance(body, dict) else (None, None)
    if not isinstance(tenant_id, str) or not valid_tenant_id(tenant_id) or not isinstance(row_id, str) \
            or len(row_id) > 36:
        raise Unprocessable(f"tenant_id and {id_field} are required.", code="validation_failed")
    return tenant_id, row_id
