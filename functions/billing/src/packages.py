"""``GET /packages``: the credit packages a member of this tenant can buy.

A package is a row of the tenant's ``packages`` table (``name``, ``credits``, ``price_cents``,
``active``). Only active packages whose credits lie within the platform's minimum and maximum purchase
(core setting ``min_purchase_credits``/``max_purchase_credits``) are offered, and ``POST /orders``
re-checks the same rule. A new tenant gets ``bigtech.payments.packages.DEFAULT_PACKAGES`` priced at the
platform's credit value (``credit_value_cents``), created with the tenant and, for a tenant that has
none, lazily here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access, market, platform_settings
from bigtech.errors import Conflict, NotFound
from bigtech.http import Request
from bigtech.identity import current
from bigtech.payments.packages import DEFAULT_PACKAGES, TABLE, ensure_default_packages
from bigtech.platform_settings import PlatformSettings


@dataclass(frozen=True)
class Package:
    id: str
    name: str
    credits: int
    price_cents: int
    active: bool = True
    bonus_credits: int = 0  # included in ``credits`` (mercado-varejo packages)

    def to_public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "credits": self.credits, "price_cents": self.price_cents,
                "currency": "BRL", "active": self.active, "bonus_credits": self.bonus_credits}


def package_from(row: Any) -> Package:
    data = row.data
    return Package(row.id, str(data.get("name") or row.id), int(data.get("credits") or 0),
                   int(data.get("price_cents") or 0), bool(data.get("active", True)))


def purchasable(package: Package, settings: PlatformSettings) -> bool:
    return package.active and settings.min_purchase_credits <= package.credits <= settings.max_purchase_credits


def catalogue_packages(config: dict[str, Any]) -> list[Package]:
    """mercado-varejo's packages on sale now; credits include the bonus."""
    return sorted((Package(p["id"], str(p.get("name") or p["id"]), int(p["credits"]) + int(p.get("bonus_credits") or 0),
                           int(p["price_cents"]), True, int(p.get("bonus_credits") or 0))
                   for p in market.active_packages(config)), key=lambda p: (p.credits, p.id))


def load_packages(tables: TablesDB, database_id: str) -> list[Package]:
    config = market.varejo_config(tables, database_id)  # the market plugin's catalogue, when it has packages
    if config and config.get("packages"):
        return catalogue_packages(config)
    rows = tables.list_rows(database_id, TABLE, [Query.limit(100)], total=False).rows
    if not rows:  # a tenant created before packages existed, or whose creation skipped them
        ensure_default_packages(tables, database_id)
        rows = tables.list_rows(database_id, TABLE, [Query.limit(100)], total=False).rows
    return sorted(map(package_from, rows), key=lambda p: (p.credits, p.id))


def get_purchasable(tables: TablesDB, database_id: str, package_id: str, settings: PlatformSettings) -> Package:
    """The package ``POST /orders`` may sell: 404 unknown, 409 inactive or outside the purchase limits."""
    packages = {p.id: p for p in load_packages(tables, database_id)}
    package = packages.get(package_id)
    if package is None:
        raise NotFound("Package not found.", code="package_not_found")
    if not package.active:
        raise Conflict("This package is not on sale.", code="package_inactive")
    if not purchasable(package, settings):
        raise Conflict("This package is outside the platform's purchase limits.", code="package_out_of_limits",
                       details={"min_purchase_credits": settings.min_purchase_credits,
                                "max_purchase_credits": settings.max_purchase_credits})
    return package


def list_packages(request: Request) -> Any:
    identity = current(request)
    tables = appwrite_access.tables(request)
    settings, _ = platform_settings.load(tables)
    offered = [p for p in load_packages(tables, identity.database_id) if purchasable(p, settings)]
    # One resource, not a page (never paginated): the packages and the purchase bounds they were filtered by.
    return {"catalogue": {"id": identity.tenant_id, "packages": [p.to_public() for p in offered],
                          "min_purchase_credits": settings.min_purchase_credits,
                          "max_purchase_credits": settings.max_purchase_credits,
                          "credit_value_cents": settings.credit_value_cents, "currency": "BRL"}}


__all__ = ["DEFAULT_PACKAGES", "Package", "ensure_default_packages", "get_purchasable", "list_packages",
           "load_packages"]
