"""Functions through the SDK: the runtime contract, executions, roles, keys and nesting (source mode)."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.users import Users

from tests.conftest import make_client
from tests.fixtures.project_stack import project_stack


@pytest.fixture(scope="module")
def fstack():
    with project_stack(sync_timeout_seconds=3.0) as running:
        yield running


@pytest.fixture(scope="module")
def functions(fstack):
    return Functions(make_client(fstack))


@pytest.fixture(scope="module")
def user(fstack):
    users = Users(make_client(fstack))
    created = users.create(ID.unique(), email=f"fn-{time.time_ns()}@example.com", password="password-123")
    return created.id, users.create_jwt(created.id).jwt


def run(functions, function_id="echo", **kwargs):
    return functions.create_execution(function_id, **kwargs)


def wait_done(functions, function_id, execution_id, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        execution = functions.get_execution(function_id, execution_id)
        if execution.status.value in {"completed", "failed"}:
            return execution
        time.sleep(0.05)
    raise AssertionError(f"execution {execution_id} did not finish")


def test_functions_are_read_from_appwrite_json(functions):
    listed = functions.list()
    assert listed.total == 14
    echo = functions.get("echo")
    assert echo.name == "Echo"
    assert echo.execute == ["users"]
    assert echo.runtime == "python-3.12"
    assert [(v.key, v.value) for v in echo.vars] == [("ECHO_VAR", "from-appwrite-json")]
    with pytest.raises(AppwriteException) as error:
        functions.get("nope")
    assert (error.value.code, error.value.type) == (404, "function_not_found")


def test_context_request_as_the_runtime_builds_it(functions):
    execution = run(
        functions,
        body='{"a": 1}',
        path="/p/q?x=1&x=2&y=a%20b",
        method=ExecutionMethod.PUT,
        headers={"X-Custom-In": "v", "x-appwrite-trigger": "spoofed", "x-open-runtimes-secret": "s"},
    )
    assert execution.status.value == "completed"
    assert execution.responsestatuscode == 200
    assert execution.trigger.value == "http"
    seen = json.loads(execution.responsebody)
    assert seen["method"] == "PUT"
    assert seen["path"] == "/p/q"
    assert seen["query_string"] == "x=1&x=2&y=a%20b"
    assert seen["query"] == {"x": "2", "y": "a%20b"}  # naive split: last key wins, no decoding
    assert seen["body_text"] == '{"a": 1}' == seen["body_raw"]
    assert seen["body_json"] == {"a": 1}
    assert seen["scheme"] == "http"
    assert isinstance(seen["port"], int)
    assert seen["url"].endswith(f":{seen['port']}/p/q?x=1&x=2&y=a%20b")
    assert seen["shout"] == "HI!"  # relative import from .helpers
    headers = seen["headers"]
    assert headers["x-custom-in"] == "v"
    assert headers["x-appwrite-trigger"] == "http"  # Appwrite's headers override the caller's
    assert "x-open-runtimes-secret" not in headers
    assert headers["x-appwrite-execution-id"] == execution.id
    assert headers["x-appwrite-key"].startswith("ephemeral_")
    assert headers["x-appwrite-user-id"] == ""  # an API-key caller is no user
    response_headers = {h.name: h.value for h in execution.responseheaders}
    assert response_headers["content-type"] == "application/json; charset=utf-8"
    assert response_headers["x-custom"] == "Yes"  # keys lowercased
    assert execution.logs == 'mode echo {"n":1}\n'
    assert execution.errors == "echo error line\n"
    assert execution.duration > 0


def test_bad_json_body_raises_inside_the_function(functions):
    seen = json.loads(run(functions, body="not json").responsebody)
    assert seen["body_json"] == "invalid"


def test_environment_variables(functions, fstack):
    env = json.loads(run(functions).responsebody)["env"]
    assert env == {
        "APPWRITE_FUNCTION_API_ENDPOINT": fstack.endpoint,
        "APPWRITE_FUNCTION_ID": "echo",
        "APPWRITE_FUNCTION_NAME": "Echo",
        "APPWRITE_FUNCTION_DEPLOYMENT": "local-source",
        "APPWRITE_FUNCTION_PROJECT_ID": "bigtech",
        "APPWRITE_FUNCTION_RUNTIME_NAME": "Python",
        "APPWRITE_FUNCTION_RUNTIME_VERSION": "3.12",
        "APPWRITE_FUNCTION_CPUS": "1",
        "APPWRITE_FUNCTION_MEMORY": "512",
        "APPWRITE_VERSION": env["APPWRITE_VERSION"],
        "APPWRITE_REGION": "default",
        "ECHO_VAR": "from-appwrite-json",
        "BIGTECH_PROBE": None,
    }
    assert "APPWRITE_FUNCTION_ID" not in os.environ  # nothing leaks into the process environment


def test_concurrent_functions_each_see_their_own_environment(functions):
    ids = ["echo", "scoped"] * 5
    with ThreadPoolExecutor(len(ids)) as pool:
        results = list(pool.map(lambda fid: run(functions, fid, path="/?mode=env&s=0.3"), ids))
    seen = [json.loads(r.responsebody) for r in results]
    assert [s["id"] for s in seen] == ids
    assert [s["getenv"] for s in seen] == ["from-appwrite-json", None] * 5


def test_missing_return_is_500_with_the_runtime_message(functions):
    execution = run(functions, path="/?mode=none")
    assert execution.responsestatuscode == 500
    assert execution.status.value == "failed"
    assert "Return statement missing. return context.res.empty() if no response is expected." in execution.errors


def test_exception_is_500_with_traceback(functions):
    execution = run(functions, path="/?mode=raise")
    assert execution.responsestatuscode == 500
    assert execution.responsebody == ""
    assert "Traceback" in execution.errors
    assert "RuntimeError: boom from echo" in execution.errors
    assert execution.logs == "mode raise {\"n\":1}\n"


def test_response_helpers(functions):
    redirect = run(functions, path="/?mode=redirect")
    assert redirect.responsestatuscode == 301
    assert {h.name: h.value for h in redirect.responseheaders}["location"] == "https://example.com/next"
    empty = run(functions, path="/?mode=empty")
    assert (empty.responsestatuscode, empty.responsebody) == (204, "")
    assert run(functions, path="/?mode=binary").responsestatuscode == 200


def test_long_log_lines_are_truncated(functions):
    logs = run(functions, path="/?mode=biglog").logs
    assert "x" * 8000 + "... Log truncated" in logs
    assert "x" * 8001 not in logs


def test_logging_disabled_hides_logs(functions):
    execution = run(functions, "quiet", path="/?mode=raise")
    assert execution.responsestatuscode == 500
    assert (execution.logs, execution.errors) == ("", "")


def test_sync_execution_times_out_with_408(functions):
    with pytest.raises(AppwriteException) as error:
        run(functions, path="/?mode=sleep&s=5")
    assert (error.value.code, error.value.type) == (408, "function_synchronous_timeout")


def test_async_execution_runs_in_the_background(functions):
    started = run(functions, path="/?mode=sleep&s=0.3", xasync=True)
    assert started.status.value == "waiting"
    assert started.responsestatuscode == 0
    done = wait_done(functions, "echo", started.id)
    assert done.status.value == "completed"
    assert done.responsestatuscode == 200
    assert done.responsebody == ""  # Appwrite keeps no body for asynchronous executions
    assert done.logs.startswith("mode sleep")


def test_function_timeout_fails_the_execution(functions):
    for path in ("/", "/?mode=sync"):
        execution = run(functions, "slow", path=path)
        assert execution.status.value == "failed"
        assert execution.responsestatuscode == 500
        assert "Execution timed out." in execution.errors
        assert execution.duration < 3


def test_list_and_get_executions(functions):
    failed = run(functions, path="/?mode=none")
    listed = functions.list_executions("echo", queries=[Query.equal("status", ["failed"]), Query.limit(100)])
    assert failed.id in [e.id for e in listed.executions]
    assert all(e.status.value == "failed" for e in listed.executions)
    assert listed.total >= 1
    fetched = functions.get_execution("echo", failed.id)
    assert fetched.responsestatuscode == 500
    assert fetched.requestpath == "/?mode=none"
    with pytest.raises(AppwriteException) as error:
        functions.get_execution("echo", "missing")
    assert (error.value.code, error.value.type) == (404, "execution_not_found")
    with pytest.raises(AppwriteException) as error:
        functions.list_executions("echo", queries=[Query.equal("nope", ["x"])])
    assert error.value.type == "general_query_invalid"


def test_user_jwt_callers_need_an_execute_role(fstack, user):
    user_id, jwt = user
    as_user = Functions(make_client(fstack, jwt=jwt))
    execution = as_user.create_execution("echo")
    headers = json.loads(execution.responsebody)["headers"]
    assert headers["x-appwrite-user-id"] == user_id
    assert headers["x-appwrite-user-jwt"] == jwt
    assert execution.logs == ""  # logs are for API keys only
    assert as_user.get_execution("echo", execution.id).id == execution.id
    with pytest.raises(AppwriteException) as error:
        as_user.create_execution("locked")
    assert (error.value.code, error.value.type) == (401, "user_unauthorized")
    with pytest.raises(AppwriteException) as error:
        as_user.create_execution("disabled")
    assert error.value.code == 404


def test_guests_only_run_functions_open_to_any(fstack):
    url = f"{fstack.endpoint}/functions/%s/executions"
    headers = {"x-appwrite-project": "bigtech", "content-type": "application/json"}
    assert requests.post(url % "public", json={}, headers=headers).status_code == 201
    refused = requests.post(url % "echo", json={}, headers=headers)
    assert (refused.status_code, refused.json()["type"]) == (401, "user_unauthorized")


def test_api_key_runs_any_function(functions):
    assert run(functions, "locked").responsebody == "locked ran"
    assert run(functions, "disabled", path="/?mode=empty").responsestatuscode == 204


def test_ephemeral_key_is_limited_to_the_function_scopes(functions):
    denied = json.loads(run(functions, "echo", path="/?mode=health").responsebody)
    assert denied == {"code": 401, "type": "general_unauthorized_scope"}
    allowed = json.loads(run(functions, "scoped", path="/?mode=health").responsebody)
    assert allowed == {"status": "pass"}


def test_ten_concurrent_three_deep_chains(functions):
    def chain(_):
        return json.loads(run(functions, "chain", body=json.dumps({"depth": 3})).responsebody)

    with ThreadPoolExecutor(10) as pool:
        results = list(pool.map(chain, range(10)))
    for result in results:
        assert result["depth"] == 3
        assert result["inner"]["depth"] == 2
        assert result["inner"]["inner"] == {"depth": 1, "fn": "chain", "trigger": "http"}


def test_shared_library_resolves_in_source_mode(functions):
    seen = json.loads(run(functions, path="/?mode=bigtech").responsebody)
    assert any(p.endswith(os.path.join("shared", "bigtech")) for p in seen["path"])
