"""Events reach the functions subscribed to them: wildcard matching, once per event, Appwrite's headers."""

from __future__ import annotations

import json
import time

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from local_appwrite.events import matches, subscribed
from tests.conftest import make_client
from tests.fixtures.project_stack import project_stack


@pytest.fixture(scope="module")
def estack():
    with project_stack() as running:
        yield running


@pytest.fixture(scope="module")
def client(estack):
    return make_client(estack)


def recorded(client, function_id, count, seconds=10.0):
    """The JSON lines the recorder logged, once ``count`` executions finished (and no more arrived)."""
    functions = Functions(client)
    deadline = time.monotonic() + seconds
    while True:
        executions = functions.list_executions(function_id).executions
        done = [e for e in executions if e.status.value in {"completed", "failed"}]
        if len(done) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # a duplicate delivery would show up by now
    executions = functions.list_executions(function_id).executions
    assert len(executions) == count, [e.logs for e in executions]
    return [(e, json.loads(e.logs)) for e in executions]


def clear(client, function_id):
    functions = Functions(client)
    for execution in functions.list_executions(function_id).executions:
        functions.delete_execution(function_id, execution.id)


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("databases.*.tables.*.rows.*.create", "databases.db.tables.t.rows.r1.create", True),
        ("databases.db.tables.*.rows.*.*", "databases.db.tables.t.rows.r1.update", True),
        ("databases.*.tables.*.rows.*.create", "databases.db.tables.t.rows.r1.update", False),
        ("databases.*.tables.*.rows.*", "databases.db.tables.t.rows.r1.create", False),
        ("users.*.create", "users.u1.create", True),
        ("users.*", "users.u1.create", False),
        ("users.u2.create", "users.u1.create", False),
    ],
)
def test_pattern_matching(pattern, name, expected):
    assert matches(pattern, name) is expected


def test_subscribed_checks_every_name():
    names = ("databases.db.collections.t.documents.r.create", "databases.db.tables.t.rows.r.create")
    assert subscribed(["databases.*.tables.*.rows.*.create"], names)
    assert not subscribed(["teams.*.create"], names)


def test_published_event_runs_each_subscribed_function_once(estack, client):
    clear(client, "recorder")
    names = [
        "databases.db1.collections.t1.documents.r1.create",  # matches one pattern of the recorder
        "databases.db1.tables.t1.rows.r1.create",  # and another: still one execution
        "databases.db1.tables.t1.rows.*.create",
        "databases.*.tables.*.rows.*.create",
    ]
    payload = {"$id": "r1", "$tableId": "t1", "$databaseId": "db1", "name": "Ana"}
    estack.events.publish(names, payload, user_id="u-123")
    [(execution, seen)] = recorded(client, "recorder", 1)
    assert execution.trigger.value == "event"
    assert execution.status.value == "completed"
    assert (execution.requestmethod, execution.requestpath) == ("POST", "/")
    assert seen == {
        "function": "recorder",
        "method": "POST",
        "path": "/",
        "trigger": "event",
        "event": names[0],
        "user": "u-123",
        "payload": payload,
    }
    assert Functions(client).list_executions("recorder-teams").total == 0
    assert Functions(client).list_executions("recorder-off").total == 0  # disabled functions hear nothing


def test_unmatched_event_runs_nothing(estack, client):
    clear(client, "recorder")
    estack.events.publish(["databases.db1.tables.t1.rows.r1.delete"], {"$id": "r1"})
    time.sleep(0.5)
    assert Functions(client).list_executions("recorder").total == 0


def test_user_and_team_creation_trigger_their_subscribers(client):
    clear(client, "recorder")
    clear(client, "recorder-teams")
    user = Users(client).create(ID.unique(), email=f"ev-{time.time_ns()}@example.com", password="password-123")
    [(_, seen)] = recorded(client, "recorder", 1)
    assert seen["event"] == f"users.{user.id}.create"
    assert seen["payload"]["$id"] == user.id
    team = Teams(client).create(ID.unique(), "Tenant")
    [(_, seen)] = recorded(client, "recorder-teams", 1)
    assert seen["event"] == f"teams.{team.id}.create"


def test_row_created_through_the_sdk_triggers_the_subscriber_once(client):
    clear(client, "recorder")
    tables = TablesDB(client)
    try:
        tables.create("evdb", "Events")
    except AppwriteException as error:
        if error.code == 404:
            pytest.skip("TablesDB routes are not there yet")
        raise
    tables.create_table("evdb", "people", "People")
    with pytest.warns(DeprecationWarning):  # SDK 27 deprecates string columns; 1.8 servers need them
        tables.create_string_column("evdb", "people", "name", 64, True)
    row = tables.create_row("evdb", "people", ID.unique(), {"name": "Bia"})
    [(execution, seen)] = recorded(client, "recorder", 1)
    assert execution.trigger.value == "event"
    assert seen["payload"]["$id"] == row.id
    assert seen["payload"]["name"] == "Bia"
    assert seen["event"].endswith(f".{row.id}.create")
