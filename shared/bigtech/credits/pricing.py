"""What a consulta costs, in credits: the tenant's price table over the platform defaults.

A tenant's price table lives in its settings (``tenants.settings.prices``, e.g. ``{"credito": 150}``);
categories it does not list cost the defaults below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_PRICES: dict[str, int] = {"credito": 180, "cadastral": 100, "veicular": 300}


def price_table(tenant_settings: Mapping[str, Any] | None) -> dict[str, int]:
    prices = dict(DEFAULT_PRICES)
    custom = (tenant_settings or {}).get("prices")
    if isinstance(custom, Mapping):
        for category, value in custom.items():
            if category in prices and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                prices[category] = value
    return prices


def price_for(tenant_settings: Mapping[str, Any] | None, category: str) -> int:
    return price_table(tenant_settings)[category]


__all__ = ["DEFAULT_PRICES", "price_for", "price_table"]
