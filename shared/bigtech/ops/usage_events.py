"""Platform usage and business counters built from the events on the bus, as they happen.

The ``ops`` function subscribes to ``consulta.*``, ``credits.*`` and ``payment.*`` (the relay delivers
them to ``POST /events``); for each event it adds, in **one transaction** with the consumer's dedupe
marker in the tenant's ``processed_events`` (so a redelivery adds nothing):

- to the core ``platform_usage`` row of (tenant, month of the event, category), ``count`` and
  ``credits`` (or ``amount_cents``): the platform admin's usage view (``GET /usage`` on ``ops``) reads
  these rows — one page per 100 rows — and never a tenant database;
- to the core ``metrics`` counters of the current minute (``bigtech.metrics``), so the ``metrics``
  function serves them from the same read as the execution counters.

Categories of ``platform_usage``:

| category | from | count | credits | amount_cents |
|---|---|---|---|---|
| ``consultas:<category>`` | ``consulta.completed`` with a billable status | consultas | credits spent | — |
| ``credits:sold`` | ``credits.purchased`` | purchases | credits sold | — |
| ``credits:granted`` | ``credits.granted`` | grants | credits granted | — |
| ``payments:<outcome>`` | ``payment.<outcome>``: confirmed, failed, refunded, chargeback, review | events | — | cents |

Counters (Prometheus names, see docs/operations.md): ``bigtech_consultas_total{category,status}``,
``bigtech_credits_total{kind=sold|spent|granted}``, ``bigtech_payments_total{gateway,outcome}``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .. import metrics
from ..bus.appwrite_dedupe import apply_once
from ..bus.envelope import EventEnvelope
from ..schema.core import CORE_DATABASE_ID
from ..uow import UnitOfWork

CONSUMER = "ops.usage"
PATTERNS = ("consulta.*", "credits.*", "payment.*")
USAGE_TABLE = "platform_usage"
BILLABLE = frozenset({"succeeded", "not_found"})
PAYMENT_OUTCOMES = frozenset({"confirmed", "failed", "refunded", "chargeback", "review"})

CONSULTAS_TOTAL = "bigtech_consultas_total"
CREDITS_TOTAL = "bigtech_credits_total"
PAYMENTS_TOTAL = "bigtech_payments_total"


@dataclass(frozen=True)
class UsageAdd:
    category: str
    count: int = 1
    credits: int = 0
    amount_cents: int = 0


@dataclass(frozen=True)
class CounterAdd:
    name: str
    labels: tuple[tuple[str, str], ...]
    value: int = 1


def _int(value: object) -> int:
    try:
        return max(0, int(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


def _label(value: object, default: str = "unknown") -> str:
    text = str(value or default)
    return "".join(c for c in text if c.isalnum() or c in "-_.")[:40] or default


def effects(envelope: EventEnvelope) -> tuple[list[UsageAdd], list[CounterAdd]]:
    """What one event adds (nothing for the types this consumer does not count)."""
    data, kind = envelope.data, envelope.type
    if kind in ("consulta.completed", "consulta.failed"):
        category, status, cost = _label(data.get("category")), _label(data.get("status")), _int(data.get("cost"))
        counters = [CounterAdd(CONSULTAS_TOTAL, (("category", category), ("status", status)))]
        usage = []
        if status in BILLABLE:
            usage.append(UsageAdd(f"consultas:{category}", credits=cost))
        if cost:
            counters.append(CounterAdd(CREDITS_TOTAL, (("kind", "spent"),), cost))
        return usage, counters
    if kind in ("credits.purchased", "credits.granted"):
        credits = _int(data.get("credits"))
        label = "sold" if kind == "credits.purchased" else "granted"
        return [UsageAdd(f"credits:{label}", credits=credits)], [CounterAdd(CREDITS_TOTAL, (("kind", label),), credits)]
    if kind.startswith("payment."):
        outcome = kind.split(".", 1)[1]
        if outcome not in PAYMENT_OUTCOMES:
            return [], []
        amount = _int(data.get("refunded_cents") if outcome == "refunded" else data.get("amount_cents"))
        gateway = _label(str(data.get("gateway") or "").removeprefix("pagamento-"))  # as the webhook metric names it
        return ([UsageAdd(f"payments:{outcome}", amount_cents=amount)],
                [CounterAdd(PAYMENTS_TOTAL, (("gateway", gateway), ("outcome", outcome)))])
    return [], []


def usage_row_id(tenant_id: str, period: str, category: str) -> str:
    return "e" + hashlib.sha256(f"{tenant_id}|{period}|{category}".encode()).hexdigest()[:35]


def _ensure(tables: TablesDB, table: str, row_id: str, data: dict[str, object]) -> int:
    """The row exists before a transaction increments it (a 409 means it already did). One call."""
    try:
        tables.create_row(CORE_DATABASE_ID, table, row_id, data)
    except AppwriteException as error:
        if error.code != 409:
            raise
    return 1


@dataclass
class Applied:
    applied: bool
    usage: int = 0
    counters: int = 0
    appwrite_calls: int = 0


def apply(tables: TablesDB, envelope: EventEnvelope, now: datetime | None = None) -> Applied:
    """Add the event's usage and counters once (False when it was applied before)."""
    usage, counters = effects(envelope)
    if not usage and not counters:
        return Applied(False)
    period = envelope.occurred_at.astimezone(UTC).strftime("%Y-%m")
    minute = metrics.minute_of(now)
    calls = 0
    usage_rows = []
    for add in usage:
        row_id = usage_row_id(envelope.tenant_id, period, add.category)
        calls += _ensure(tables, USAGE_TABLE, row_id, {"tenant_id": envelope.tenant_id, "period": period,
                                                       "category": add.category, "count": 0, "credits": 0,
                                                       "amount_cents": 0})
        usage_rows.append((row_id, add))
    counter_rows = []
    for counter in counters:
        labels = metrics.labels_json(dict(counter.labels))
        row_id = metrics.row_id(counter.name, labels, minute)
        calls += _ensure(tables, metrics.TABLE, row_id, {"name": counter.name, "labels": labels, "minute": minute,
                                                         "value": 0})
        counter_rows.append((row_id, counter))

    def build(unit: UnitOfWork) -> None:
        for row_id, add in usage_rows:
            for column, value in (("count", add.count), ("credits", add.credits), ("amount_cents", add.amount_cents)):
                if value:
                    unit.increment(CORE_DATABASE_ID, USAGE_TABLE, row_id, column, value)
        for row_id, counter in counter_rows:
            if counter.value:
                unit.increment(CORE_DATABASE_ID, metrics.TABLE, row_id, "value", counter.value)

    applied = apply_once(tables, CONSUMER, envelope, build)
    return Applied(applied, len(usage_rows), len(counter_rows), calls + 3)  # + the transaction's three calls


__all__ = ["CONSUMER", "PATTERNS", "Applied", "CounterAdd", "UsageAdd", "apply", "effects", "usage_row_id"]
