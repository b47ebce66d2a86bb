"""Shared set-up of the funcional plugin tests: a tenant with the plugins synced into the catalog."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from bigtech.plugins import core_calls
from tests.conftest import make_client
from tests.support.actors import call, create_tenant, platform_admin, tenant_id_for


@pytest.fixture(scope="module")
def admin(stack):
    admin = platform_admin(stack)
    assert admin.call("plugins", "POST", "/catalog/sync").status == 200
    return admin


def new_tenant(stack, admin, prefix: str, plugin_id: str, config: dict[str, Any] | None = None):
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for(prefix))
    enabled = owner.call("plugins", "PUT", f"/{plugin_id}", {"enabled": True, "config": config or {}})
    assert enabled.status == 200, enabled
    return tenant_id, owner


def send_event(stack, function_id: str, tenant_id: str, event_type: str, data: dict[str, Any],
               event_id: str | None = None) -> Any:
    """What the relay does: POST the envelope to the subscriber's /events with CORE's token."""
    envelope = {"id": event_id or uuid.uuid4().hex, "type": event_type, "tenant_id": tenant_id,
                "occurred_at": datetime.now(UTC).isoformat(), "actor": "user_test", "data": data, "version": 1}
    body = json.dumps(envelope)
    result = call(stack, None, function_id, "POST", "/events", raw_body=body,
                  headers=core_calls.headers(function_id, "POST", "/events", body))
    assert result.status == 200, result
    return envelope, result.body


def run_schedule(stack, function_id: str) -> dict[str, Any]:
    """The local stack's on-demand run of a function's schedule (trigger=schedule, no user)."""
    answer = make_client(stack).call("post", f"/local/functions/{function_id}/schedule",
                                     {"content-type": "application/json"}, {})
    assert answer["status"] == "completed", answer
    return json.loads(answer["responseBody"] or "{}")


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")
