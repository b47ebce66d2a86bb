"""Statements: the ledger and orders of a period, with opening and closing balances that add up.

The wallet's balance now is Σ effect of every ledger entry (``bigtech.credits.ledger``), so the closing
balance of a period is today's balance minus the effect of everything after it, and the opening one is
the closing minus the period's own effect: only the rows from the period's start onwards are read.
"""

from __future__ import annotations

from typing import Any

from bigtech.credits.ledger import effect, to_public

from .period import Period
from .readers import Reader, parse_time

MAX_LINES = 1000  # lines in the JSON answer; totals always cover the whole period (CSV has every line)


def order_json(row: Any) -> dict[str, Any]:
    data = row.data
    return {"id": row.id, "created_at": getattr(row, "createdat", None), "user_id": data.get("user_id"),
            "package_id": data.get("package_id"), "credits": data.get("credits"),
            "amount_cents": data.get("amount_cents"), "currency": "BRL", "method": data.get("method"),
            "status": data.get("status"),
            "gateway": data.get("gateway"), "gateway_order_id": data.get("gateway_order_id"),
            "gateway_charge_id": data.get("gateway_charge_id"), "paid_at": data.get("paid_at")}


def build(reader: Reader, period: Period, wallet_id: str | None) -> dict[str, Any]:
    lines: list[dict[str, Any]] = []
    period_effect = after_effect = credits_in = credits_out = count = 0
    for row in reader.ledger(None, wallet_id, after=period.start):
        change = effect(str(row.data.get("type")), int(row.data.get("amount") or 0))
        created = parse_time(getattr(row, "createdat", None))
        if created is not None and created >= period.end:
            after_effect += change
            continue
        period_effect += change
        credits_in += max(change, 0)
        credits_out += max(-change, 0)
        count += 1
        if len(lines) < MAX_LINES:
            lines.append(to_public(row))
    closing = reader.wallets_balance(wallet_id) - after_effect
    opening = closing - period_effect
    orders = [order_json(r) for r, _ in zip(reader.orders(period, wallet_id), range(MAX_LINES), strict=False)]
    return {"period": period.to_json(), "member": wallet_id, "opening_balance": opening, "credits_in": credits_in,
            "credits_out": credits_out, "closing_balance": closing, "entries_count": count,
            "entries": lines, "truncated": count > len(lines), "orders": orders}
