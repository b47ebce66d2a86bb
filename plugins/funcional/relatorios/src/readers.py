"""Paged reads of the tenant's tables: one page of ``PAGE`` rows at a time through indexes and cursors,
never the whole table in one call (a report over 100 000 consultas is 200 calls, not one huge one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .period import Period, iso

PAGE = 500
CONSULTA_COLUMNS = ["$id", "$createdAt", "user_id", "category", "status", "cost", "plugin_id", "input_masked",
                    "purpose", "legal_basis", "sources", "completed_at", "audit_id", "api_key_id"]
LEDGER_COLUMNS = ["$id", "$createdAt", "wallet_id", "type", "amount", "reference_type", "reference_id", "reason"]
ORDER_COLUMNS = ["$id", "$createdAt", "user_id", "package_id", "credits", "amount_cents", "method", "status",
                 "gateway", "gateway_order_id", "gateway_charge_id", "paid_at"]


class Reader:
    def __init__(self, tables: TablesDB, database_id: str) -> None:
        self.tables = tables
        self.database_id = database_id
        self.calls = 0  # Appwrite calls made (the benchmark reports them)

    def pages(self, table: str, queries: list[str], columns: list[str] | None = None,
              cursor: str | None = None) -> Iterator[list[Any]]:
        while True:
            page_queries = [*queries, Query.order_asc("$createdAt"), Query.order_asc("$id"), Query.limit(PAGE)]
            if columns:
                page_queries.append(Query.select(columns))
            if cursor:
                page_queries.append(Query.cursor_after(cursor))
            self.calls += 1
            rows = self.tables.list_rows(self.database_id, table, page_queries, total=False).rows
            if rows:
                yield rows
            if len(rows) < PAGE:
                return
            cursor = rows[-1].id

    def rows(self, table: str, queries: list[str], columns: list[str] | None = None) -> Iterator[Any]:
        for page in self.pages(table, queries, columns):
            yield from page

    def consultas(self, period: Period, user_id: str | None = None) -> Iterator[Any]:
        return self.rows("consultas", [*_between(period), *_who("user_id", user_id)], CONSULTA_COLUMNS)

    def ledger(self, period: Period | None, wallet_id: str | None = None, *, after: Any = None) -> Iterator[Any]:
        queries = _between(period) if period else [Query.greater_than_equal("$createdAt", iso(after))]
        return self.rows("ledger", [*queries, *_who("wallet_id", wallet_id)], LEDGER_COLUMNS)

    def orders(self, period: Period, user_id: str | None = None) -> Iterator[Any]:
        return self.rows("orders", [*_between(period), *_who("user_id", user_id)], ORDER_COLUMNS)

    def provider_costs(self, period: Period) -> dict[str, Decimal]:
        """consulta id → provider cost (BRL), from the consultas' audit entries (the LGPD record keeps it)."""
        costs: dict[str, Decimal] = {}
        # the entry is written in the consulta's own transaction; a minute either side covers clock skew
        # between the two timestamps (costs are keyed by consulta id, so extra entries are harmless)
        margin = timedelta(minutes=1)
        queries = [Query.equal("action", ["consultas.create"]),
                   Query.greater_than_equal("occurred_at", iso(period.start - margin)),
                   Query.less_than("occurred_at", iso(period.end + margin))]
        for row in self.rows("audit", queries, ["$id", "$createdAt", "resource_id", "details"]):
            try:
                details = json.loads(row.data.get("details") or "{}")
                costs[str(row.data.get("resource_id"))] = Decimal(str(details.get("provider_cost") or "0"))
            except (ValueError, InvalidOperation, AttributeError):
                continue
        return costs

    def wallets_balance(self, wallet_id: str | None) -> int:
        if wallet_id:
            try:
                self.calls += 1
                return int(self.tables.get_row(self.database_id, "wallets", wallet_id).data.get("balance") or 0)
            except AppwriteException:  # no wallet yet: nothing was ever credited
                return 0
        return sum(int(r.data.get("balance") or 0) for r in self.rows("wallets", [], ["$id", "$createdAt", "balance"]))


def _between(period: Period) -> list[str]:
    return [Query.greater_than_equal("$createdAt", iso(period.start)), Query.less_than("$createdAt", iso(period.end))]


def _who(column: str, value: str | None) -> list[str]:
    return [Query.equal(column, [value])] if value else []


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
