"""The usage report: consultas of a period grouped by time, member, category, product, status or channel
(``web``: a member in the web app; ``api``: a mercado-atacado API key).

Credits are what the consultas cost (``consultas.cost``: 0 when nothing was charged), which is exactly
what the ledger's ``debit`` entries of those consultas say; the BRL value is credits × the platform's
credit value. Provider cost (from each consulta's audit record) and margin (value − provider cost) are
for owners and admins only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .readers import parse_time

GROUPS = ("day", "week", "month", "member", "category", "product", "status", "channel")
API_ACTOR_PREFIX = "apikey:"  # user_id/actor of a consulta run by an API key (docs/mercado.md)


def channel_of(api_key_id: Any, user_id: Any) -> str:
    return "api" if api_key_id or str(user_id or "").startswith(API_ACTOR_PREFIX) else "web"


@dataclass
class Bucket:
    key: str
    count: int = 0
    charged: int = 0
    credits: int = 0
    provider_cost: Decimal = field(default_factory=Decimal)

    def add(self, credits: int, provider_cost: Decimal) -> None:
        self.count += 1
        self.charged += 1 if credits > 0 else 0
        self.credits += credits
        self.provider_cost += provider_cost

    def to_json(self, credit_value_cents: int, with_costs: bool) -> dict[str, Any]:
        value = self.credits * credit_value_cents
        out: dict[str, Any] = {"key": self.key, "count": self.count, "charged": self.charged, "credits": self.credits,
                               "value_cents": value, "currency": "BRL"}
        if with_costs:
            cost = int((self.provider_cost * 100).quantize(Decimal("1"), ROUND_HALF_UP))
            out.update(provider_cost_cents=cost, margin_cents=value - cost)
        return out


def created_of(row: Any) -> datetime:
    created = parse_time(getattr(row, "createdat", None) or row.data.get("$createdAt"))
    if created is None:  # Appwrite stamps every row: one without a creation time is not a row
        raise ValueError("a row without $createdAt")
    return created


def group_key(row: Any, group_by: str) -> str:
    data = row.data
    if group_by in ("day", "week", "month"):
        created = created_of(row)
        if group_by == "day":
            return created.date().isoformat()
        if group_by == "week":  # the ISO week's Monday
            return (created.date() - timedelta(days=created.weekday())).isoformat()
        return created.strftime("%Y-%m")
    if group_by == "channel":
        return channel_of(data.get("api_key_id"), data.get("user_id"))
    column = {"member": "user_id", "product": "plugin_id"}.get(group_by, group_by)
    return str(data.get(column) or "")


def build(rows: Iterable[Any], group_by: str, costs: dict[str, Decimal] | None) -> tuple[list[Bucket], Bucket]:
    buckets: dict[str, Bucket] = {}
    total = Bucket("total")
    for row in rows:
        credits = int(row.data.get("cost") or 0)
        cost = (costs or {}).get(row.id, Decimal(0))
        key = group_key(row, group_by)
        buckets.setdefault(key, Bucket(key)).add(credits, cost)
        total.add(credits, cost)
    return sorted(buckets.values(), key=lambda b: b.key), total
