"""The API style guide (docs/api-style.md) as a checker: ``violations(...)`` lists what a function's JSON
answer does against it.

It runs on every function answer the test suite produces (``tests/contract/recorder.py`` feeds it every
``createExecution``/``getExecution`` the stacks answer) and the contract test
``test_every_function_response_follows_the_style_guide`` fails listing what it found. Rules checked:

- errors: exactly ``{"error": {"code", "message", "details"}}``, ``details`` a list of
  ``{field?, message, value?}``;
- lists: ``{items, next_cursor, total?}`` and ``total`` only when the request asked ``?total=true``;
- single resources: never bare (a top-level ``id`` means an unwrapped resource);
- money: integers with the unit in the name (``*_cents``, ``*_credits``), cents with a ``currency`` beside
  them; no decimal strings (``*_brl``), no unit-less money names (``price``, ``cost``, ``amount``,
  ``provider_cost``).

The plugin wire protocol (``/manifest``, ``/execute``… between CORE and plugins, docs/plugins.md) is not
the frontend API: only its error envelope and money rules apply.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

LIST_KEYS = frozenset({"items", "next_cursor", "total"})
DETAIL_KEYS = frozenset({"field", "message", "value"})
# Money spelled without its unit: the guide wants amount_cents + currency, price_cents, cost_credits…
UNITLESS_MONEY = frozenset({"price", "cost", "amount", "provider_cost", "fee", "value_cents_brl"})
DECIMAL_MONEY_SUFFIXES = ("_brl", "_reais")
INTEGER_SUFFIXES = ("_cents", "_credits")
# Free-form content the API carries but does not shape: a source's result, an audit entry's recorded
# details, a plugin's config, an event's payload. The money rules do not look inside.
OPAQUE_KEYS = frozenset({"result", "details", "data", "meta", "config", "payload", "input", "changes",
                         "metadata", "params", "before", "after", "body", "headers", "manifest", "schema",
                         "config_schema", "instructions", "request", "response"})
# Reference documents in formats of their own, not resources: an OpenAPI document, the error catalogue
# (keyed by ``code``, docs/errors.md).
REFERENCE_DOCUMENTS = frozenset({"/openapi.json", "/errors"})
APPWRITE_JSON = Path(__file__).resolve().parents[2] / "appwrite.json"
WIRE_PROTOCOL = ("/manifest", "/install", "/enable", "/disable", "/execute", "/events", "/webhook/", "/jobs/run")


def _is_wire(path: str) -> bool:
    return any(path == p or path.startswith(p if p.endswith("/") else p + "/") or path == p.rstrip("/")
               for p in WIRE_PROTOCOL)


def _money(value: Any, where: str, out: list[str], currency: bool = True) -> None:
    pending: list[tuple[Any, str]] = [(value, where)]
    while pending:
        item, at = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                name = str(key)
                here = f"{at}.{name}"
                if name in UNITLESS_MONEY:
                    out.append(f"{here}: money without its unit (use *_cents + currency or *_credits)")
                elif name.endswith(DECIMAL_MONEY_SUFFIXES):
                    out.append(f"{here}: decimal money (use integer *_cents)")
                elif name.endswith(INTEGER_SUFFIXES) and child is not None and (
                        not isinstance(child, int) or isinstance(child, bool)):
                    out.append(f"{here}: {name} must be an integer, got {child!r}")
                if name not in OPAQUE_KEYS:
                    pending.append((child, here))
            if currency and any(str(key).endswith("_cents") for key in item) and "currency" not in item:
                out.append(f"{at}: amounts in cents without their currency")
        elif isinstance(item, list):
            pending.extend((child, f"{at}[{index}]") for index, child in enumerate(item))


def error_violations(body: Any) -> list[str]:
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return ["error answer is not {error: {code, message, details}}"]
    error = body["error"]
    out = []
    if set(error) != {"code", "message", "details"}:
        out.append(f"error keys are {sorted(error)}, not code/message/details")
    if not isinstance(error.get("code"), str) or not isinstance(error.get("message"), str):
        out.append("error.code and error.message must be strings")
    details = error.get("details")
    if not isinstance(details, list):
        out.append(f"error.details must be a list, got {type(details).__name__}")
        return out
    for index, item in enumerate(details):
        if not isinstance(item, dict) or not set(item) <= DETAIL_KEYS or not isinstance(item.get("message"), str) \
                or ("field" in item and not isinstance(item["field"], str)):
            out.append(f"error.details[{index}] is not {{field?, message, value?}}: {item!r}"[:200])
    return out


def success_violations(body: Any, path: str, asked_total: bool) -> list[str]:
    out: list[str] = []
    _money(body, "$", out, currency=not _is_wire(path))  # the wire protocol's cents are BRL by definition
    if not isinstance(body, dict) or _is_wire(path):
        return out
    if "items" in body:
        if not set(body) <= LIST_KEYS or "next_cursor" not in body or not isinstance(body["items"], list):
            out.append(f"list answer keys are {sorted(body)}, not items/next_cursor/total?")
        if "total" in body and not asked_total:
            out.append("total given without ?total=true")
        if asked_total and not isinstance(body.get("total"), int):
            out.append("?total=true but no integer total")
        for index, item in enumerate(body.get("items") or []):
            if isinstance(item, dict) and "id" not in item:
                out.append(f"$.items[{index}]: a listed resource carries its id as `id`")
    elif "id" in body:
        out.append("a single resource must be wrapped by its name ({\"<name>\": {\"id\", …}})")
    else:
        for name, value in body.items():
            if isinstance(value, dict) and name not in OPAQUE_KEYS and "id" not in value \
                    and {f"{name}_id", "user_id", "plugin_id"} & set(value):
                out.append(f"$.{name}: a wrapped resource carries its own id as `id`")
    return out


def violations(status: int, body: Any, *, path: str = "/") -> list[str]:
    """What a JSON answer of ``status`` to ``path`` (query included) does against the style guide."""
    split = urlsplit(path)
    if status >= 400:
        return error_violations(body)
    asked_total = parse_qs(split.query).get("total", [""])[0].lower() in {"true", "1"}
    return success_violations(body, split.path or "/", asked_total)


@cache
def product_functions() -> frozenset[str]:
    """Bigtech's own functions (the stacks also run test fixtures, which the guide does not govern)."""
    return frozenset(entry["$id"] for entry in json.loads(APPWRITE_JSON.read_text(encoding="utf-8"))["functions"])


def execution_violations(execution: Any) -> list[str]:
    """``violations`` of the function answer an Appwrite ``Execution`` document carries (if JSON)."""
    if not isinstance(execution, dict) or execution.get("status") != "completed":
        return []
    if execution.get("functionId") not in product_functions():
        return []
    if str(execution.get("requestPath") or "/").partition("?")[0] in REFERENCE_DOCUMENTS:
        return []
    headers = {str(h.get("name", "")).lower(): str(h.get("value", ""))
               for h in execution.get("responseHeaders") or [] if isinstance(h, dict)}
    text = execution.get("responseBody") or ""
    if "json" not in headers.get("content-type", "") or not text:
        return []
    try:
        body = json.loads(text)
    except ValueError:
        return ["content-type says JSON but the body does not parse"]
    status = int(execution.get("responseStatusCode") or 0)
    if status >= 500 or status == 0:  # a runtime failure, not a Bigtech answer (contract tests cover 5xx)
        return error_violations(body) if isinstance(body, dict) and "error" in body else []
    return violations(status, body, path=str(execution.get("requestPath") or "/"))


__all__ = ["error_violations", "execution_violations", "success_violations", "violations"]
