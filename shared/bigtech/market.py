"""Prices and packages through the tenant's market plugin (docs/mercado.md), CORE staying agnostic.

When the tenant has ``mercado-varejo`` enabled, its config (validated by the plugin's manifest, changed
only through the audited plugin loader) is the catalogue: ``prices`` per category and ``packages``. A
category the catalogue does not price, and a tenant without the plugin, fall back to the platform's
table (``bigtech.credits.price_table``: the tenant's settings over the defaults). One read of the
tenant's ``plugins`` row (id = plugin id) per look-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException

from .credits.pricing import price_table
from .plugin_loader import state

VAREJO = "mercado-varejo"


def varejo_config(tables: Any, database_id: str) -> dict[str, Any] | None:
    """The enabled varejo plugin's config, or ``None`` (not enabled, or never configured)."""
    try:
        found = state.from_row(tables.get_row(database_id, state.TABLE, VAREJO))
    except AppwriteException as error:
        if error.code == 404:
            return None
        raise
    return found.config if found.enabled else None


def prices(tables: Any, database_id: str, tenant_settings: Mapping[str, Any] | None) -> tuple[dict[str, int], str]:
    """(price per category, where it came from: ``mercado-varejo`` or ``platform``)."""
    table = price_table(tenant_settings)
    config = varejo_config(tables, database_id)
    if config is None:
        return table, "platform"
    for category, value in (config.get("prices") or {}).items():
        if category in table and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            table[category] = value
    return table, VAREJO


def price_for(tables: Any, database_id: str, tenant_settings: Mapping[str, Any] | None, category: str) -> int:
    return prices(tables, database_id, tenant_settings)[0][category]


def active_packages(config: Mapping[str, Any] | None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The catalogue's packages on sale now (``active_from`` ≤ now < ``active_until``, either optional)."""
    moment = now or datetime.now(UTC)
    active = []
    for package in (config or {}).get("packages") or []:
        starts, ends = _time(package.get("active_from")), _time(package.get("active_until"))
        if (starts is None or starts <= moment) and (ends is None or moment < ends):
            active.append(dict(package))
    return active


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


__all__ = ["VAREJO", "active_packages", "price_for", "prices", "varejo_config"]
