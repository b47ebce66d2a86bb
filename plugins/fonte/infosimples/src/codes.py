"""Infosimples response codes → Bigtech outcome (``shared/reference/data-sources.md`` §1.3).

Infosimples always answers HTTP 200; ``code`` says what happened and ``header.billable`` whether it
costs money. The table's billable column is only the default for a response without a header:
**the live ``header.billable`` is the truth**, and the customer is charged according to it, not
according to ``code == 200``.

Outcomes: ``ok`` (200 one result, 201 several results: both billable successes); ``not_found`` (612, a
billable "nada consta"); ``input_error`` (606-608, billable: inputs are validated in code before
calling to avoid them); ``source_error`` (611/619/620, billable but unusable → ``failed``, no fallback:
it would pay twice); ``retryable`` (not billable: fall back); 616 follows ``header.billable``; 622
means the same query is being repeated against Infosimples (an integration fault): it carries no
data, is never retried, raises an alert and throttles the same query on our side (``failed``,
``duplicate_query``, not billable).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from bigtech.plugins import Status

Outcome = Literal["ok", "not_found", "input_error", "source_error", "retryable", "per_billable", "duplicate"]


@dataclass(frozen=True)
class CodeRule:
    code: int
    name: str
    meaning: str
    billable: bool | None  # the table's default; None = "not shown"
    outcome: Outcome
    config_alert: bool = False


CODE_TABLE: dict[int, CodeRule] = {
    rule.code: rule
    for rule in (
        CodeRule(200, "success", "success", True, "ok"),
        CodeRule(201, "multiple_results", "success, several results", True, "ok"),
        CodeRule(600, "unexpected_error", "unexpected error (Infosimples)", False, "retryable"),
        CodeRule(601, "invalid_token", "invalid token", False, "retryable", config_alert=True),
        CodeRule(602, "invalid_service", "invalid service path", False, "retryable", config_alert=True),
        CodeRule(603, "token_not_authorised", "token not authorised / limit reached", False, "retryable",
                 config_alert=True),
        CodeRule(604, "parameter_validation_failed", "parameter validation failed", False, "retryable"),
        CodeRule(605, "timeout", "timeout reached", False, "retryable"),
        CodeRule(606, "missing_parameters", "missing required parameters", True, "input_error"),
        CodeRule(607, "invalid_parameters", "invalid parameters", True, "input_error"),
        CodeRule(608, "refused_by_source", "refused by the source", True, "input_error"),
        CodeRule(609, "max_attempts_exceeded", "maximum attempts exceeded", False, "retryable"),
        CodeRule(610, "captcha_failure", "captcha failure", False, "retryable"),
        CodeRule(611, "incomplete_data", "incomplete data at the source", True, "source_error"),
        CodeRule(612, "no_data_found", "no data found (nada consta)", True, "not_found"),
        CodeRule(613, "blocked_by_source", "blocked by the source", False, "retryable"),
        CodeRule(614, "source_unexpected_error", "unexpected error at the source", False, "retryable"),
        CodeRule(615, "source_unavailable", "source unavailable", False, "retryable"),
        CodeRule(616, "source_error", "source error", None, "per_billable"),
        CodeRule(617, "infosimples_overloaded", "Infosimples overloaded", False, "retryable"),
        CodeRule(618, "source_overloaded", "source overloaded / rate-limited", False, "retryable"),
        CodeRule(619, "parameter_changed_at_source", "parameter changed at the source", True, "source_error"),
        CodeRule(620, "permanent_source_error", "permanent error at the source", True, "source_error"),
        CodeRule(621, "receipt_error", "error generating the receipt", False, "retryable"),
        CodeRule(622, "duplicate_query", "the same query is being repeated (integration fault; no data)", False,
                 "duplicate"),
    )
}


@dataclass(frozen=True)
class Mapped:
    status: Status
    billable: bool
    price: Decimal  # header.price (what Infosimples says the call cost), 0 when absent
    provider_cost: Decimal  # price when billable, else 0
    error_code: str | None  # our PluginError code (None for ok/not_found)
    provider_code: int
    config_alert: bool = False


def parse_price(value: Any) -> Decimal:
    """``header.price`` is a string in BRL (``"0.2"``); tolerate numbers, commas and garbage (→ 0)."""
    if value is None or isinstance(value, bool):
        return Decimal("0")
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        return Decimal("0")


def map_response(payload: dict[str, Any]) -> Mapped:
    """Outcome, billing and error code of one Infosimples response envelope."""
    try:
        code = int(payload.get("code"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        code = -1
    header = raw if isinstance(raw := payload.get("header"), dict) else {}
    rule = CODE_TABLE.get(code)
    header_billable = header.get("billable")
    default_billable = bool(rule.billable) if rule else False
    billable = header_billable if isinstance(header_billable, bool) else default_billable
    price = parse_price(header.get("price"))
    has_data = bool(payload.get("data")) and int(payload.get("data_count") or len(payload.get("data") or [])) > 0

    if rule is None:
        status = Status.FAILED if billable else Status.RETRYABLE
        error_code: str | None = "unknown_code"
    elif rule.outcome == "ok":
        status, error_code = (Status.OK, None) if has_data else (Status.NOT_FOUND, None)
    elif rule.outcome == "not_found":
        status, error_code = Status.NOT_FOUND, None
    elif rule.outcome == "input_error":
        status, error_code = Status.INPUT_ERROR, rule.name
    elif rule.outcome == "source_error":
        status, error_code = Status.FAILED, rule.name
    elif rule.outcome == "per_billable":
        status, error_code = (Status.FAILED if billable else Status.RETRYABLE), rule.name
    elif rule.outcome == "duplicate":
        # Never served from whatever the response carries and never retried: it is our fault.
        status, error_code, billable = Status.FAILED, rule.name, False
    else:
        status, error_code = Status.RETRYABLE, rule.name
    return Mapped(
        status=status,
        billable=billable,
        price=price,
        provider_cost=price if billable else Decimal("0"),
        error_code=error_code,
        provider_code=code,
        config_alert=bool(rule and rule.config_alert),
    )


__all__ = ["CODE_TABLE", "CodeRule", "Mapped", "map_response", "parse_price"]
