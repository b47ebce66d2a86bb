"""CSV exports: UTF-8 with a BOM (spreadsheets then read accents right), formula-injection safe, built page
by page from the readers (rows are written as each page arrives; no list of every row is kept).

Appwrite executions answer with one body, so "streaming" ends at the function: the text is assembled
page by page and capped at ``MAX_BYTES``; a bigger export answers 413 ``export_too_large`` asking for
a shorter period.

``pt-BR``: ``;`` separator, decimal comma, ``dd/mm/aaaa hh:mm`` dates. ``en``: ``,`` and ISO 8601.
A text cell starting with ``= + - @``, tab or carriage return is prefixed with ``'`` so no spreadsheet
runs it as a formula (OWASP's advice); numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from bigtech.errors import PayloadTooLarge

from .readers import parse_time

BOM = "\ufeff"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
MAX_BYTES = 20 * 1024 * 1024


class Cell:
    """Formatting of one locale."""

    def __init__(self, locale: str) -> None:
        self.pt = locale == "pt-BR"
        self.delimiter = ";" if self.pt else ","

    def text(self, value: Any) -> str:
        if value is None:
            return ""
        text = str(value)
        return "'" + text if text.startswith(DANGEROUS) else text

    def number(self, value: Any) -> str:
        if value is None or value == "":
            return ""
        text = str(value)
        return text.replace(".", ",") if self.pt else text

    def money(self, cents: Any) -> str:
        if cents is None:
            return ""
        return self.number(f"{Decimal(int(cents)) / 100:.2f}")

    def when(self, value: Any) -> str:
        moment = value if isinstance(value, datetime) else parse_time(value) if value else None
        if moment is None:
            return ""
        return moment.strftime("%d/%m/%Y %H:%M:%S") if self.pt else moment.isoformat(timespec="seconds")


def render(header: list[str], rows: Iterable[list[str]], cell: Cell) -> str:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, delimiter=cell.delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() > MAX_BYTES:
            raise PayloadTooLarge("This export is too large for one answer; ask for a shorter period.",
                                  code="export_too_large")
    return buffer.getvalue()


def consultas(rows: Iterable[Any], cell: Cell) -> tuple[list[str], Iterator[list[str]]]:
    header = ["id", "created_at", "user_id", "category", "product", "status", "credits", "subject", "purpose",
              "legal_basis", "audit_id"]

    def lines() -> Iterator[list[str]]:
        for r in rows:
            d = r.data
            yield [cell.text(r.id), cell.when(getattr(r, "createdat", None)), cell.text(d.get("user_id")),
                   cell.text(d.get("category")), cell.text(d.get("plugin_id")), cell.text(d.get("status")),
                   cell.number(d.get("cost") or 0), cell.text(_subject(d.get("input_masked"))),
                   cell.text(d.get("purpose")), cell.text(d.get("legal_basis")), cell.text(d.get("audit_id"))]

    return header, lines()


def ledger(rows: Iterable[Any], cell: Cell) -> tuple[list[str], Iterator[list[str]]]:
    from bigtech.credits.ledger import effect

    header = ["id", "created_at", "wallet_id", "type", "amount", "balance_effect", "reference_type", "reference_id",
              "reason"]

    def lines() -> Iterator[list[str]]:
        for r in rows:
            d = r.data
            amount = int(d.get("amount") or 0)
            yield [cell.text(r.id), cell.when(getattr(r, "createdat", None)), cell.text(d.get("wallet_id")),
                   cell.text(d.get("type")), cell.number(amount), cell.number(effect(str(d.get("type")), amount)),
                   cell.text(d.get("reference_type")), cell.text(d.get("reference_id")), cell.text(d.get("reason"))]

    return header, lines()


def orders(rows: Iterable[Any], cell: Cell) -> tuple[list[str], Iterator[list[str]]]:
    header = ["id", "created_at", "user_id", "package_id", "credits", "amount_brl", "method", "status", "gateway",
              "gateway_order_id", "paid_at"]

    def lines() -> Iterator[list[str]]:
        for r in rows:
            d = r.data
            yield [cell.text(r.id), cell.when(getattr(r, "createdat", None)), cell.text(d.get("user_id")),
                   cell.text(d.get("package_id")), cell.number(d.get("credits")), cell.money(d.get("amount_cents")),
                   cell.text(d.get("method")), cell.text(d.get("status")), cell.text(d.get("gateway")),
                   cell.text(d.get("gateway_order_id")), cell.when(d.get("paid_at"))]

    return header, lines()


def usage(items: list[dict[str, Any]], cell: Cell) -> tuple[list[str], Iterator[list[str]]]:
    with_costs = bool(items) and "provider_cost_cents" in items[0]
    header = ["group", "count", "charged", "credits", "value_brl"] + (
        ["provider_cost_brl", "margin_brl"] if with_costs else [])

    def lines() -> Iterator[list[str]]:
        for item in items:
            line = [cell.text(item["key"]), cell.number(item["count"]), cell.number(item["charged"]),
                    cell.number(item["credits"]), cell.money(item["value_cents"])]
            if with_costs:
                line += [cell.money(item["provider_cost_cents"]), cell.money(item["margin_cents"])]
            yield line

    return header, lines()


def _subject(raw: Any) -> str:
    """``input_masked`` is JSON ({"document": "***.456.789-**"}): a readable, still masked, form."""
    import json

    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return ""
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items() if v)
    return str(value)
