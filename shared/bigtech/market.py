"""Prices and packages through the tenant's market plugin (docs/mercado.md), CORE staying agnostic.

When the tenant has ``mercado-varejo`` enabled, its config (validated by the plugin's manifest and the
platform's catalogue bounds, changed only through the audited plugin loader) is the catalogue: ``prices``
per category, ``products`` (a category's products, each with its own price) and ``packages``. A
category the catalogue does not price, and a tenant without the plugin, fall back to the platform's
table (``bigtech.credits.price_table``: the tenant's settings over the defaults); a product exists only
in the catalogue. One read of the tenant's ``plugins`` row (id = plugin id) per look-up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException

from .appwrite_access import is_unique_violation
from .credits.pricing import price_table
from .errors import PaymentRequired, Unprocessable
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


def prices(tables: Any, database_id: str, tenant_settings: Mapping[str, Any] | None,
           config: Any = False) -> tuple[dict[str, int], str]:
    """(price per category, where it came from: ``mercado-varejo`` or ``platform``)."""
    table = price_table(tenant_settings)
    config = varejo_config(tables, database_id) if config is False else config
    if config is None:
        return table, "platform"
    for category, value in (config.get("prices") or {}).items():
        if category in table and isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            table[category] = value
    return table, VAREJO


def price_for(tables: Any, database_id: str, tenant_settings: Mapping[str, Any] | None, category: str) -> int:
    return prices(tables, database_id, tenant_settings)[0][category]


def product_price(config: Mapping[str, Any] | None, category: str, product: str) -> int:
    """The catalogue's price of ``product`` (a product of ``category``): the very number the price list shows.
    422 ``product_not_offered`` when the tenant's catalogue (or its absence) does not sell it."""
    for item in (config or {}).get("products") or []:
        if item.get("id") == product and item.get("category") == category:
            return int(item["price"])
    raise Unprocessable(f"This tenant's catalogue offers no product {product!r} for {category}.",
                        code="product_not_offered", details=[{"field": "product", "message": "not offered"}])


def active_packages(config: Mapping[str, Any] | None, now: datetime | None = None) -> list[dict[str, Any]]:
    """The catalogue's packages on sale now (``active_from`` ≤ now < ``active_until``, either optional)."""
    moment = now or datetime.now(UTC)
    active = []
    for package in (config or {}).get("packages") or []:
        starts, ends = parse_time(package.get("active_from")), parse_time(package.get("active_until"))
        if (starts is None or starts <= moment) and (ends is None or moment < ends):
            active.append(dict(package))
    return active


def parse_time(value: Any) -> datetime | None:
    """An ISO time (``Z`` or naive read as UTC); ``None`` when absent or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


SPEND_TABLE = "rate_limits"  # one row per member and UTC month: the credits their consultas hold or spent
LIMIT_EXCEEDED = "column_limit_exceeded"


def monthly_limit(config: Mapping[str, Any] | None, user_id: str) -> int | None:
    limits = (config or {}).get("monthly_limits") or {}
    value = (limits.get("members") or {}).get(user_id, limits.get("default"))
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


@dataclass
class MemberTerms:
    """A member's consulta: its price, and their monthly spending limit (varejo ``monthly_limits``).

    The month's spend is one row per member in ``rate_limits``, moved by ``increment_row_column(price,
    max=limit)``: Appwrite refuses the increment that would pass the limit, so concurrent consultas
    cannot overshoot it → 402 ``monthly_limit_reached``, nothing reserved. A consulta that ends
    uncharged gives its price back (``give_back``).
    """

    database_id: str
    user_id: str
    price: int
    limit: int | None
    month: str
    counted: bool = False

    @property
    def row_id(self) -> str:
        return f"{hashlib.sha256(f'spend:{self.user_id}'.encode()).hexdigest()[:24]}-{self.month.replace('-', '')}"

    def reserve_spend(self, tables: Any) -> None:
        if self.limit is None or self.price <= 0:
            return
        for _attempt in range(3):
            try:
                tables.increment_row_column(self.database_id, SPEND_TABLE, self.row_id, "count", self.price,
                                            max=self.limit)
                self.counted = True
                return
            except AppwriteException as error:
                if error.code == 400 and error.type == LIMIT_EXCEEDED:
                    raise self._refused() from None
                if error.code != 404:
                    raise
            if self.price > self.limit:
                raise self._refused()
            try:
                tables.create_row(self.database_id, SPEND_TABLE, self.row_id, {
                    "key": f"spend:{self.user_id}", "window_start": f"{self.month}-01T00:00:00+00:00",
                    "count": self.price})
                self.counted = True
                return
            except AppwriteException as error:
                if not is_unique_violation(error):
                    raise

    def give_back(self, tables: Any) -> None:
        if self.counted:
            tables.decrement_row_column(self.database_id, SPEND_TABLE, self.row_id, "count", self.price, min=0)
            self.counted = False

    def _refused(self) -> PaymentRequired:
        return PaymentRequired("Your monthly spending limit is reached.", code="monthly_limit_reached",
                               details={"limit": self.limit, "price": self.price, "month": self.month})


def member_terms(tables: Any, database_id: str, tenant_settings: Mapping[str, Any] | None, category: str,
                 user_id: str, product: str | None = None, config: Any = False) -> MemberTerms:
    """Price (of the product when one is named, else of the category) and monthly limit of ``user_id``'s
    consulta, from one read of the varejo config (none when the caller passes the ``config`` it already read)."""
    config = varejo_config(tables, database_id) if config is False else config
    if product:
        price = product_price(config, category, product)
    else:
        price = prices(tables, database_id, tenant_settings, config)[0][category]
    return MemberTerms(database_id, user_id, price, monthly_limit(config, user_id), datetime.now(UTC).strftime("%Y-%m"))


def spending(tables: Any, database_id: str, user_id: str) -> dict[str, Any] | None:
    """The member's monthly limit and what they spent this month (``GET /me``); ``None`` without a limit."""
    config = varejo_config(tables, database_id)
    limit = monthly_limit(config, user_id)
    if limit is None:
        return None
    terms = MemberTerms(database_id, user_id, 0, limit, datetime.now(UTC).strftime("%Y-%m"))
    try:
        spent = int(tables.get_row(database_id, SPEND_TABLE, terms.row_id).data.get("count") or 0)
    except AppwriteException as error:
        if error.code != 404:
            raise
        spent = 0
    return {"month": terms.month, "limit": limit, "spent": spent, "remaining": max(0, limit - spent)}


__all__ = ["VAREJO", "MemberTerms", "active_packages", "member_terms", "monthly_limit", "parse_time", "price_for",
           "prices", "product_price", "spending", "varejo_config"]
