"""After every execution: one structured JSON log line and the execution metrics (``bigtech.metrics``).

The line: ``{"event": "execution", "function", "method", "route", "status", "duration_ms", "tenant",
"user", "request_id", "trigger"}`` — ``route`` is the matched pattern (``/orders/{order_id}``), never the
raw path, and the whole line passes ``mask_text`` so no CPF/CNPJ can reach the logs. Metrics recording is
skipped when ``BIGTECH_METRICS`` is ``off`` and never fails the request.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..errors import BigtechError
from ..log import mask_text
from .routing import Router

METRIC_EXECUTIONS = "bigtech_executions"
METRIC_DURATION = "bigtech_execution_duration_ms"


def _route(router: Router, method: str, path: str) -> str:
    try:
        route, _params = router.match(method, path)
        return route.path
    except BigtechError:
        return "unmatched"
    except Exception:  # the router changed shape: the line still goes out
        return "unknown"


def _header(context: Any, name: str) -> str | None:
    headers = getattr(getattr(context, "req", None), "headers", None) or {}
    for key, value in headers.items():
        if str(key).lower() == name:
            return str(value)
    return None


def execution_line(context: Any, router: Router, status: int, duration_ms: float) -> dict[str, Any]:
    req = getattr(context, "req", None)
    method = str(getattr(req, "method", "") or "").upper()
    path = str(getattr(req, "path", "") or "/")
    return {
        "event": "execution",
        "function": os.environ.get("APPWRITE_FUNCTION_ID", ""),
        "method": method,
        "route": _route(router, method, path),
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "tenant": _header(context, "x-tenant-id"),
        "user": _header(context, "x-appwrite-user-id"),
        "request_id": _header(context, "x-appwrite-execution-id"),
        "trigger": _header(context, "x-appwrite-trigger") or "http",
    }


def observe(context: Any, router: Router, status: int, duration_ms: float) -> None:
    line = execution_line(context, router, status, duration_ms)
    log = getattr(context, "log", None)
    if callable(log):
        log(mask_text(json.dumps(line, separators=(",", ":"), ensure_ascii=False)))
    if os.environ.get("BIGTECH_METRICS", "").lower() in {"off", "0", "false"}:
        return
    try:
        _record(context, line)
    except Exception as error:  # metrics are best effort: the request already has its answer
        error_log = getattr(context, "error", None)
        if callable(error_log):
            error_log(mask_text(f"metrics: {type(error).__name__}: {str(error)[:200]}"))


def _record(context: Any, line: dict[str, Any]) -> None:
    from appwrite.services.tables_db import TablesDB

    from .. import appwrite_access, metrics

    if not _header(context, "x-appwrite-key"):
        return
    tables = TablesDB(appwrite_access.key_client(context))
    labels = {"function": line["function"], "route": line["route"], "method": line["method"],
              "status": str(line["status"])}
    metrics.record_duration(tables, METRIC_DURATION, labels, line["duration_ms"])  # one call: count and sum packed
