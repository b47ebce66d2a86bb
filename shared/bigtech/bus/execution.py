"""Deliver an event by POSTing it to a subscriber function's `/events` route through a synchronous execution.

The subscriber answers 2xx when applied (body `{"duplicate": true}` when its dedupe saw the event before) and
anything else to have the bus retry. Build the `Functions` service per relay run (never cache a Client).
"""

from __future__ import annotations

import json
from typing import Any

from ..plugins import core_calls
from .envelope import EventEnvelope
from .errors import DeliveryFailed
from .subscribers import Deliver

EVENT_ROUTE = "/events"


def execution_deliverer(functions: Any, function_id: str, *, path: str = EVENT_ROUTE) -> Deliver:
    """`functions` is an `appwrite.services.functions.Functions`."""
    from appwrite.enums.execution_method import ExecutionMethod

    def deliver(envelope: EventEnvelope) -> bool:
        body = envelope.to_json()
        execution = functions.create_execution(
            function_id,
            body=body,
            xasync=False,
            path=path,
            method=ExecutionMethod.POST,
            headers={
                **core_calls.headers(function_id, "POST", path, body),
                "x-bigtech-event-id": envelope.id,
                "x-bigtech-event-type": envelope.type,
                "x-bigtech-tenant-id": envelope.tenant_id,
            },
        )
        status = _field(execution, "status")
        code = int(_field(execution, "responsestatuscode", "responseStatusCode") or 0)
        body = _field(execution, "responsebody", "responseBody") or ""
        if str(getattr(status, "value", status)) != "completed" or not 200 <= code < 300:
            errors = _field(execution, "errors") or ""
            raise DeliveryFailed(f"{function_id}{path} answered {code} ({status}): {(body or errors)[:300]}")
        return not _is_duplicate(body)

    return deliver


def _field(execution: Any, *names: str) -> Any:
    for name in names:
        if isinstance(execution, dict) and name in execution:
            return execution[name]
        if hasattr(execution, name):
            return getattr(execution, name)
    return None


def _is_duplicate(body: str) -> bool:
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return False
    return isinstance(parsed, dict) and parsed.get("duplicate") is True
