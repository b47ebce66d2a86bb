"""The platform's bounds on a tenant's catalogue (platform settings ``catalogue``, managed by the platform
admin through ``tenants PATCH /settings``; defaults in ``bigtech.platform_settings.CatalogueBounds``).

CORE calls ``POST /enable`` with the effective config whenever a tenant enables or reconfigures the
catalogue, before anything is written; this module refuses it (422 ``catalogue_out_of_bounds``, one
detail per offending field) when it passes the bounds, so the tenant's change changes nothing. The
manifest's JSON Schema keeps only the shape and the hard limits.
"""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access, platform_settings
from bigtech.errors import Unprocessable
from bigtech.http import Request
from bigtech.platform_settings import CatalogueBounds
from bigtech.plugins.contract import LifecycleRequest

Problems = list[dict[str, str]]


def _between(problems: Problems, field: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, int) and not low <= value <= high:
        problems.append({"field": field, "message": f"must be between {low} and {high} (platform bounds)"})


def _at_most(problems: Problems, field: str, count: int, most: int, what: str) -> None:
    if count > most:
        problems.append({"field": field, "message": f"at most {most} {what} (platform bounds)"})


def _unique_ids(problems: Problems, field: str, items: list[Any]) -> None:
    seen: set[Any] = set()
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("id") in seen:
            problems.append({"field": f"{field}[{index}].id", "message": "duplicate id"})
        seen.add(item.get("id") if isinstance(item, dict) else None)


def problems(config: dict[str, Any], bounds: CatalogueBounds) -> Problems:
    """Every way ``config`` passes ``bounds`` (empty when it fits); ids must be unique so that the price a
    list shows for an id is the one charged for it."""
    found: Problems = []
    for category, price in sorted((config.get("prices") or {}).items()):
        _between(found, f"config.prices.{category}", price, bounds.min_price, bounds.max_price)
    products = [p for p in config.get("products") or [] if isinstance(p, dict)]
    _at_most(found, "config.products", len(products), bounds.max_products, "products")
    for index, product in enumerate(products):
        _between(found, f"config.products[{index}].price", product.get("price"), bounds.min_price, bounds.max_price)
    _unique_ids(found, "config.products", products)
    packages = [p for p in config.get("packages") or [] if isinstance(p, dict)]
    _at_most(found, "config.packages", len(packages), bounds.max_packages, "packages")
    for index, package in enumerate(packages):
        _between(found, f"config.packages[{index}].credits", package.get("credits"), bounds.min_package_credits,
                 bounds.max_package_credits)
        _between(found, f"config.packages[{index}].price_cents", package.get("price_cents"),
                 bounds.min_package_price_cents, bounds.max_package_price_cents)
    _unique_ids(found, "config.packages", packages)
    return found


def check_enable(request: Request) -> None:
    """Before ``POST /enable`` (CORE's call): the config against the platform's current bounds (one read)."""
    body = request.model(LifecycleRequest)
    settings, _ = platform_settings.load(appwrite_access.tables(request))
    found = problems(body.config, settings.catalogue)
    if found:
        raise Unprocessable("The catalogue passes the platform's bounds.", code="catalogue_out_of_bounds",
                            details=found)
