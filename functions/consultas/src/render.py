"""A consulta as the API shows it, and as it is stored (``consultas`` row)."""

from __future__ import annotations

import json
from typing import Any

from bigtech.plugins import PluginResult, Status

SOURCES_LIMIT = 4000  # the ``sources`` column holds 4096 characters
OUTCOME = {Status.OK: "succeeded", Status.NOT_FOUND: "not_found"}


def consulta_status(result: PluginResult) -> str:
    return OUTCOME.get(result.status, "failed")


def charges(result: PluginResult) -> bool:
    """An answer (data or "nada consta") is paid for; so is a source error the provider billed.
    Timeouts, unavailable sources and non-billable errors are not."""
    return result.status in (Status.OK, Status.NOT_FOUND) or result.billable


def public_sources(result: PluginResult) -> list[dict[str, Any]]:
    """Every fonte tried, in order, and how it went (no provider cost, no provider receipts)."""
    sources = []
    for attempt in result.sources:
        item: dict[str, Any] = {"plugin": attempt.plugin, "status": attempt.status.value, "billable": attempt.billable,
                                "elapsed_ms": attempt.elapsed_ms}
        if attempt.query:
            item["query"] = attempt.query
        if attempt.error is not None:
            item["error"] = {"code": attempt.error.code, "message": attempt.error.message}
        sources.append(item)
    return sources


def sources_json(sources: list[dict[str, Any]]) -> str:
    text = json.dumps(sources, separators=(",", ":"), ensure_ascii=False)
    while len(text) > SOURCES_LIMIT and sources:  # keep the first attempts: they explain the fallback
        sources = sources[:-1]
        text = json.dumps([*sources, {"truncated": True}], separators=(",", ":"), ensure_ascii=False)
    return text


def error_of(result: PluginResult) -> dict[str, str] | None:
    first = result.first_error
    if first is None:
        return None
    return {"code": first.code, "message": first.message[:500]}


def _loads(text: Any, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def to_public(row: Any, *, with_result: bool = True) -> dict[str, Any]:
    data = row.data
    public = {
        "id": row.id,
        "category": data.get("category"),
        "status": data.get("status"),
        "cost": int(data.get("cost") or 0),
        "input": _loads(data.get("input_masked"), {}),
        "purpose": data.get("purpose"),
        "legal_basis": data.get("legal_basis"),
        "user_id": data.get("user_id"),
        "plugin_id": data.get("plugin_id"),
        "sources": _loads(data.get("sources"), []),
        "error": _loads(data.get("error"), None),
        "created_at": row.createdat,
        "completed_at": data.get("completed_at"),
        "audit_id": data.get("audit_id"),
    }
    if with_result:
        public["result"] = _loads(data.get("result"), None)
    return public
