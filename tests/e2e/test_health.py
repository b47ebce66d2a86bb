"""End to end: the health function answers through Appwrite's executions API, as a client sees it."""

import json
from datetime import datetime

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.enums.execution_status import ExecutionStatus
from appwrite.services.functions import Functions

import bigtech


def test_health_answers_with_version_and_time(client):
    execution = Functions(client).create_execution("health", path="/", method=ExecutionMethod.GET)
    assert execution.status == ExecutionStatus.COMPLETED
    assert execution.responsestatuscode == 200
    body = json.loads(execution.responsebody)
    assert body["status"] == "ok"
    assert body["version"] == bigtech.__version__
    assert datetime.fromisoformat(body["time"]).tzinfo is not None


def test_health_unknown_path_is_a_json_404(client):
    execution = Functions(client).create_execution("health", path="/nope", method=ExecutionMethod.GET)
    assert execution.responsestatuscode == 404
    assert json.loads(execution.responsebody)["error"]["code"] == "route_not_found"
