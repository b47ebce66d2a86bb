"""The narrow seam between the public API and CORE's consulta flow.

The public API runs *the same* flow as the ``consultas`` function (validation, idempotency, reserve,
plugin, settle or release, audit, events), with the API key as the actor: ``run_consulta`` is the one
place that knows how that flow is reached. Today it is ``functions/consultas/src/create.py``'s
``create(request)``, which reads its caller from ``request.identity``; a ``KeyIdentity`` stands in for a
member there and carries ``consulta_terms`` (the wallet to spend from, the price, the columns that name
the key on the row). When the flow becomes a service (``run_consulta``), only this module changes.

Where the flow's code comes from: the build copies ``functions/consultas/src`` into this function as the
package ``consultas_flow`` (``vendor.json``); from the source tree (the local stack's source mode and the
tests) the same folder is bound under that name.
"""

from __future__ import annotations

import importlib
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bigtech.errors import Forbidden, NotFound
from bigtech.http import Request
from bigtech.plugins import validate_input
from bigtech.schema.tenant import tenant_database_id
from bigtech.tenancy import Tenant, find_tenant

from . import pricing
from .keys import ApiKey
from .plugin import tenant_config

PACKAGE = "consultas_flow"
VENDOR_FILE = "vendor.json"


def _bind_from_source() -> None:
    for parent in Path(__file__).resolve().parents:
        vendor = parent / VENDOR_FILE
        if not vendor.is_file():
            continue
        relative = json.loads(vendor.read_text(encoding="utf-8"))[PACKAGE]
        for root in vendor.parents:
            folder = root / relative
            if folder.is_dir():
                package = types.ModuleType(PACKAGE)
                package.__path__ = [str(folder)]
                sys.modules[PACKAGE] = package
                return
    raise ModuleNotFoundError(f"{PACKAGE}: neither vendored by the build nor found beside the source tree")


def flow() -> types.ModuleType:
    """``consultas_flow.create`` (vendored, or bound from the source tree on first use)."""
    try:
        return importlib.import_module(f"{PACKAGE}.create")
    except ModuleNotFoundError as error:
        if error.name not in (PACKAGE, f"{PACKAGE}.create"):
            raise
    _bind_from_source()
    return importlib.import_module(f"{PACKAGE}.create")


def render() -> types.ModuleType:
    flow()
    return importlib.import_module(f"{PACKAGE}.render")


def validate(body: dict[str, Any]) -> None:
    """The flow's own body and input validation (422), without running anything: async requests are
    refused before they are accepted."""
    flow()
    model = importlib.import_module(f"{PACKAGE}.models").ConsultaBody.model_validate(body)
    validate_input(model.category, model.lookup_input())


def actor_id(key: ApiKey) -> str:
    return f"apikey:{key.id}"


@dataclass
class KeyTerms:
    """What a key's consulta costs and who pays: the service wallet, at the price of the key's volume
    band (``pricing``), else the tenant's price table."""

    key: ApiKey
    tenant: Tenant
    tables: Any
    config: dict[str, Any]
    tier: str | None = None
    charged: dict[str, int] = field(default_factory=dict)

    @property
    def wallet_id(self) -> str:
        return self.key.wallet_id

    def price(self, category: str) -> int:
        got = pricing.quote(self.tables, self.tenant.database_id, self.key.id, self.config, self.tenant.settings,
                            category)
        self.tier = got.tier
        self.charged[category] = got.price
        return got.price

    def row_fields(self) -> dict[str, Any]:
        return {"api_key_id": self.key.id, "price_tier": self.tier}


@dataclass
class KeyIdentity:
    """The caller as the consulta flow sees it: an API key of one tenant, acting with no member role."""

    key: ApiKey
    ip: str | None
    tenant_id: str = ""
    role: str = "api_key"
    consulta_terms: KeyTerms | None = None
    _tenant: Tenant | None = None

    def __post_init__(self) -> None:
        self.tenant_id = self.key.tenant_id

    @property
    def user_id(self) -> str:
        return actor_id(self.key)

    @property
    def actor(self) -> str:
        return self.user_id

    @property
    def database_id(self) -> str:
        return self._tenant.database_id if self._tenant else tenant_database_id(self.tenant_id)

    def tenant(self) -> Tenant | None:
        return self._tenant

    def require_tenant(self) -> Tenant:
        if self._tenant is None:
            raise NotFound("Tenant not found.", code="tenant_not_found")
        return self._tenant


def run_consulta(request: Request, key: ApiKey, tables: Any) -> Any:
    """One consulta for ``key`` through CORE's flow; returns the flow's response (201, or a replay)."""
    tenant = find_tenant(tables, key.tenant_id)
    if tenant is None:
        raise NotFound("Tenant not found.", code="tenant_not_found")
    if tenant.suspended:
        raise Forbidden("This tenant is suspended; only reading is allowed.", code="tenant_suspended")
    identity = KeyIdentity(key, request.header("x-appwrite-client-ip"), _tenant=tenant)
    config = tenant_config(tables, tenant.database_id)  # 409 plugin_not_enabled once the tenant disabled it
    identity.consulta_terms = KeyTerms(key, tenant, tables, config)
    request.identity = identity  # type: ignore[attr-defined]
    return flow().create(request)
