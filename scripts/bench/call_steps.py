"""Name the step of a consulta each Appwrite API call belongs to, from the stack's request log.

The benchmark records every call a function on the consulta's path makes (method, route, path
parameters, the table a call touches, the transaction's operations) and this module sorts them into
the steps issue 12 asks about: identity, tenant+settings, routing, rate limit, idempotency,
reservation, the transaction (create/stage/commit), audit sealing, plugin execution. A transaction
is attributed by what its staged operations touch: one that only moves the audit head is sealing.

``relay_step`` does the same for the relay's calls (issue 12's relay half): registry, pending markers,
outbox list / count, claim (one bounded increment, or a list + a transaction), mark published or
release, delivery look-ups and records, metrics; the subscriber executions apart (the subscribers' work).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

STEPS = (
    "identity", "tenant+settings", "plugin routing", "rate limit", "idempotency", "reservation",
    "transaction create", "transaction stage", "transaction commit", "audit sealing", "audit checkpoint",
    "plugin execution", "inside plugins", "other",
)
AUDIT_TABLES = frozenset({"audit", "audit_head", "platform_audit"})
CHECKPOINT_TABLES = frozenset({"audit_checkpoints"})
RESERVATION_TABLES = frozenset({"wallets", "ledger"})
ROUTING_TABLES = frozenset({"plugins", "plugin_catalog"})
SUBSCRIBER_EXECUTIONS = "subscriber executions"
RELAY_STEPS = (
    "registry", "pending markers", "tenants", "outbox list", "pending count", "claim (increment)",
    "claim (transaction)", "mark published / release", "delivery look-up", "delivery records", "metrics",
    "other", SUBSCRIBER_EXECUTIONS,
)


@dataclass
class Call:
    """One API call as the stack saw it."""

    function_id: str
    method: str
    pattern: str
    path_params: dict[str, str]
    body: Any = None
    response: Any = None

    @property
    def table(self) -> str | None:
        return self.path_params.get("tableId")


@dataclass
class Classifier:
    """Sorts calls into steps; transactions are sorted by the operations staged into them."""

    transaction_step: dict[str, str] = field(default_factory=dict)

    def _transaction_kind(self, operations: Iterable[dict[str, Any]]) -> str:
        tables = {str(op.get("tableId")) for op in operations}
        if tables and tables <= AUDIT_TABLES:
            return "audit sealing"
        if tables and tables <= CHECKPOINT_TABLES | AUDIT_TABLES:
            return "audit checkpoint"
        if tables and tables <= RESERVATION_TABLES:  # the hold (or a compensating release) on its own
            return "reservation"
        return "transaction"

    def steps_of(self, calls: list[Call]) -> Counter[str]:
        # First pass: what each transaction staged (the create call comes before we know).
        for call in calls:
            if call.pattern.endswith("/operations") and call.method == "POST":
                operations = (call.body or {}).get("operations") or []
                self.transaction_step[call.path_params.get("transactionId", "")] = self._transaction_kind(operations)
        counted: Counter[str] = Counter()
        for call in calls:
            counted[self.step(call)] += 1
        return counted

    def step(self, call: Call) -> str:
        if call.function_id != "consultas":
            return "plugin execution" if call.pattern.endswith("/executions") else "inside plugins"
        pattern, table = call.pattern, call.table
        if pattern.startswith("/users"):
            return "identity"
        if pattern.endswith("/executions"):
            return "plugin execution"
        if pattern.startswith("/tablesdb/transactions"):
            transaction_id = call.path_params.get("transactionId") or _id_of(call.response)
            kind = self.transaction_step.get(transaction_id or "", "transaction")
            if kind != "transaction":
                return kind
            if call.method == "POST" and pattern == "/tablesdb/transactions":
                return "transaction create"
            if pattern.endswith("/operations"):
                return "transaction stage"
            return "transaction commit"
        if table == "tenants" or table == "settings":
            return "tenant+settings"
        if table in ROUTING_TABLES:
            return "plugin routing"
        if table == "rate_limits":
            return "rate limit"
        if table == "idempotency":
            return "idempotency"
        if table in RESERVATION_TABLES:
            return "reservation"
        if table in AUDIT_TABLES:
            return "audit sealing"
        if table in CHECKPOINT_TABLES:
            return "audit checkpoint"
        return "other"


def relay_step(call: Call) -> str:
    """The relay step of one of the relay's calls (``RELAY_STEPS``)."""
    pattern, table = call.pattern, call.table
    if pattern.endswith("/executions"):
        return SUBSCRIBER_EXECUTIONS
    if pattern.startswith("/functions") or table == "plugin_catalog":
        return "registry"
    if pattern.startswith("/tablesdb/transactions"):
        return "claim (transaction)"
    if pattern.endswith("/increment"):
        return "claim (increment)"
    if table == "outbox_pending":
        return "pending markers"
    if table == "tenants":
        return "tenants"
    if table == "outbox":
        if call.method == "GET":  # the relay's lists ask for no total; a count asks for one
            total = (call.body or {}).get("total") if isinstance(call.body, dict) else None
            return "outbox list" if str(total).lower() == "false" else "pending count"
        return "mark published / release"
    if table == "deliveries":
        return "delivery look-up" if call.method == "GET" else "delivery records"
    if table and table.startswith("metric"):
        return "metrics"
    return "other"


def _id_of(response: Any) -> str | None:
    if isinstance(response, dict):
        value = response.get("$id")
        return str(value) if value else None
    return None


def parse_body(raw: bytes, params: dict[str, Any]) -> Any:
    """The request's JSON parameters (the stack already parsed them into ``params``)."""
    if params:
        return params
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


__all__ = ["RELAY_STEPS", "STEPS", "SUBSCRIBER_EXECUTIONS", "Call", "Classifier", "parse_body", "relay_step"]
