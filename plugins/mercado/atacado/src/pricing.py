"""Volume tiers: the price of a key's consulta by its monthly volume band (plugin config ``volume_bands``).

The key's consultas this UTC month are counted atomically (``limits.tally_month``, one call, only when the
tenant configured bands): the n-th consulta of the month is priced by the last band whose ``from`` ≤ n-1.
A category the band does not price, or a tenant without bands, pays the tenant's price table
(``bigtech.credits.price_for``), with no tier. Every request that reaches pricing counts towards the
volume, including one that ends refunded: the band is a commercial volume, not a bill.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bigtech.credits import price_for

from . import limits


@dataclass(frozen=True)
class Quote:
    price: int
    tier: str | None
    month_count: int | None = None


def band_for(bands: list[dict[str, Any]], already: int) -> dict[str, Any] | None:
    chosen = None
    for band in sorted(bands, key=lambda b: int(b["from"])):
        if int(band["from"]) <= already:
            chosen = band
    return chosen


def quote(tables: Any, database_id: str, key_id: str, config: dict[str, Any], tenant_settings: Any,
          category: str, now: datetime | None = None) -> Quote:
    default = price_for(tenant_settings, category)
    bands = config.get("volume_bands") or []
    if not bands:
        return Quote(default, None)
    count = limits.tally_month(tables, database_id, key_id, now or datetime.now(UTC))
    band = band_for(bands, count - 1)
    if band is None:
        return Quote(default, None, count)
    price = (band.get("prices") or {}).get(category)
    return Quote(int(price), band["name"], count) if price else Quote(default, None, count)
