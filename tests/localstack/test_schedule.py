"""Scheduled functions: the CRON loop's decisions, and the local on-demand run."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from appwrite.services.functions import Functions

from local_appwrite.runner.project import FunctionSpec
from local_appwrite.scheduler import Scheduler
from tests.conftest import make_client
from tests.fixtures.project_stack import project_stack

T0 = datetime(2026, 3, 1, 2, 59, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def sstack():
    with project_stack() as running:
        yield running


def fake_scheduler(*specs):
    functions = {spec.id: spec for spec in specs}
    launched = []
    return Scheduler(lambda: functions, launched.append), launched, functions


def spec(fid, schedule, enabled=True):
    return FunctionSpec(id=fid, name=fid, folder=Path("."), schedule=schedule, enabled=enabled)


def test_scheduler_runs_functions_when_due():
    nightly, every5 = spec("nightly", "0 3 * * *"), spec("every5", "*/5 * * * *")
    scheduler, launched, _ = fake_scheduler(nightly, every5, spec("never", ""), spec("off", "* * * * *", False))
    assert scheduler.tick(T0) == []  # the first tick only plans
    assert scheduler.next_run("nightly") == datetime(2026, 3, 1, 3, 0, tzinfo=UTC)
    assert scheduler.tick(T0 + timedelta(seconds=20)) == []
    assert sorted(scheduler.tick(T0 + timedelta(seconds=31))) == ["every5", "nightly"]
    assert scheduler.tick(T0 + timedelta(seconds=32)) == []  # once per due time
    assert scheduler.next_run("nightly") == datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
    assert scheduler.tick(T0 + timedelta(minutes=5, seconds=31)) == ["every5"]
    assert sorted(fn.id for fn in launched) == ["every5", "every5", "nightly"]


def test_changed_schedule_is_replanned_and_invalid_one_skipped():
    scheduler, launched, functions = fake_scheduler(spec("job", "0 3 * * *"), spec("bad", "not cron"))
    scheduler.tick(T0)
    functions["job"] = spec("job", "0 4 * * *")
    scheduler.tick(T0 + timedelta(seconds=31))
    assert launched == []
    assert scheduler.next_run("job") == datetime(2026, 3, 1, 4, 0, tzinfo=UTC)
    assert scheduler.next_run("bad") is None


def test_stack_scheduler_launches_schedule_executions(sstack):
    client = make_client(sstack)
    now = datetime.now(UTC)
    sstack.scheduler.tick(now)
    assert sstack.scheduler.tick(now + timedelta(days=1, minutes=1)) == ["scheduled"]
    functions = Functions(client)
    for _ in range(100):
        [execution] = functions.list_executions("scheduled").executions
        if execution.status.value == "completed":
            break
        time.sleep(0.05)
    assert execution.trigger.value == "schedule"
    for execution in functions.list_executions("scheduled").executions:
        functions.delete_execution("scheduled", execution.id)


def test_on_demand_schedule_run(sstack):
    client = make_client(sstack)
    result = client.call("post", "/local/functions/scheduled/schedule", {"content-type": "application/json"}, {})
    assert result["trigger"] == "schedule"
    assert result["status"] == "completed"
    assert json.loads(result["responseBody"]) == {"trigger": "schedule"}
    assert json.loads(result["logs"]) == {"trigger": "schedule", "body": ""}
    headers = {h["name"]: h["value"] for h in result["requestHeaders"]}
    assert headers["x-appwrite-user-id"] == ""
    stored = Functions(client).get_execution("scheduled", result["$id"])
    assert stored.trigger.value == "schedule"


def test_on_demand_schedule_needs_an_api_key(sstack):
    response = requests.post(
        f"{sstack.endpoint}/local/functions/scheduled/schedule", headers={"x-appwrite-project": "bigtech"}
    )
    assert response.status_code == 401
    missing = requests.post(
        f"{sstack.endpoint}/local/functions/nope/schedule",
        headers={"x-appwrite-project": "bigtech", "x-appwrite-key": sstack.settings.api_key},
    )
    assert (missing.status_code, missing.json()["type"]) == (404, "function_not_found")
