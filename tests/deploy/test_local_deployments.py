"""The local stack's Functions management API, as the Appwrite CLI uses it: functions, deployments
(chunked tar.gz upload, offline build, activation), variables; and that executions run what was deployed."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
from typing import Any

import httpx
import pytest
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from tests.conftest import make_client

MAIN = """\
import os


def main(context):
    return context.res.json({"version": VERSION, "probe": os.environ.get("DEPLOY_PROBE", ""),
                             "deployment": os.environ.get("APPWRITE_FUNCTION_DEPLOYMENT", "")})
"""


def archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def code(version: str, requirements: str = "httpx\n", extra: dict[str, bytes] | None = None) -> bytes:
    return archive({"src/main.py": (f"VERSION = {version!r}\n" + MAIN).encode(),
                    "requirements.txt": requirements.encode(), **(extra or {})})


def upload(stack, function_id: str, data: bytes, activate: bool = True, chunk: int = 5 * 1024 * 1024) -> dict:
    """The CLI's upload: 5 MiB multipart chunks with content-range, x-appwrite-id from the second one."""
    headers = {"x-appwrite-project": stack.settings.project_id, "x-appwrite-key": stack.settings.api_key}
    answer: dict[str, Any] = {}
    for start in range(0, len(data), chunk):
        part = data[start:start + chunk]
        sent = dict(headers)
        if len(data) > chunk:
            sent["content-range"] = f"bytes {start}-{start + len(part) - 1}/{len(data)}"
        if answer:
            sent["x-appwrite-id"] = answer["$id"]
        response = httpx.post(f"{stack.endpoint}/functions/{function_id}/deployments", headers=sent, timeout=30,
                              data={"activate": str(activate).lower(), "entrypoint": "src/main.py",
                                    "commands": "pip install -r requirements.txt"},
                              files={"code": ("code.tar.gz", part, "application/gzip")})
        assert response.status_code == 202, response.text
        answer = response.json()
    return answer


def wait_built(client, function_id: str, deployment_id: str) -> dict:
    deadline = time.monotonic() + 120
    while True:
        doc = client.call("get", f"/functions/{function_id}/deployments/{deployment_id}")
        if doc["status"] in ("ready", "failed"):
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.2)


def execute(client, function_id: str) -> dict:
    execution = Functions(client).create_execution(function_id, path="/")
    assert execution.responsestatuscode == 200, execution.errors
    return json.loads(execution.responsebody)


def post(client, path: str, params: dict[str, Any]) -> dict:
    return client.call("post", path, {"content-type": "application/json"}, params)


@pytest.fixture
def function_id(stack) -> str:
    client = make_client(stack)
    function_id = f"tiny-{os.urandom(3).hex()}"
    created = post(client, "/functions", {"functionId": function_id, "name": "tiny", "runtime": "python-3.12",
                                          "execute": ["users"], "timeout": 15, "entrypoint": "src/main.py",
                                          "commands": "pip install -r requirements.txt"})
    assert created["$id"] == function_id and created["deploymentId"] == ""
    return function_id


def test_a_deployed_function_runs_its_deployed_code_with_its_variables(stack, function_id):
    client = make_client(stack)
    with pytest.raises(AppwriteException) as error:
        Functions(client).create_execution(function_id)
    assert error.value.type == "build_not_ready"  # created, never deployed: nothing runs
    post(client, f"/functions/{function_id}/variables", {"key": "DEPLOY_PROBE", "value": "v-one"})
    first = upload(stack, function_id, code("one"))
    assert first["status"] in ("waiting", "building", "ready")
    built = wait_built(client, function_id, first["$id"])
    assert built["status"] == "ready", built["buildLogs"]
    assert "Requirement already satisfied: httpx" in built["buildLogs"]  # offline: the stack's own package
    assert client.call("get", f"/functions/{function_id}")["deploymentId"] == first["$id"]
    assert execute(client, function_id) == {"version": "one", "probe": "v-one", "deployment": first["$id"]}


def test_activation_and_rollback_switch_the_running_code(stack, function_id):
    client = make_client(stack)
    first = wait_built(client, function_id, upload(stack, function_id, code("one"))["$id"])
    second = wait_built(client, function_id, upload(stack, function_id, code("two"), activate=False)["$id"])
    assert second["status"] == "ready" and execute(client, function_id)["version"] == "one"
    activated = client.call("patch", f"/functions/{function_id}/deployment", {"content-type": "application/json"},
                            {"deploymentId": second["$id"]})
    assert activated["deploymentId"] == second["$id"] and activated["latestDeploymentId"] == second["$id"]
    assert execute(client, function_id)["version"] == "two"
    client.call("patch", f"/functions/{function_id}/deployment", {"content-type": "application/json"},
                {"deploymentId": first["$id"]})  # rollback
    assert execute(client, function_id)["version"] == "one"
    listed = client.call("get", f"/functions/{function_id}/deployments")
    assert listed["total"] == 2 and [d["$id"] for d in listed["deployments"]] == [second["$id"], first["$id"]]
    client.call("delete", f"/functions/{function_id}/deployments/{second['$id']}")
    assert client.call("get", f"/functions/{function_id}/deployments")["total"] == 1


def test_a_large_archive_arrives_in_chunks(stack, function_id):
    client = make_client(stack)
    big = code("big", extra={"data/blob.bin": os.urandom(6 * 1024 * 1024)})  # incompressible: 2 chunks
    assert len(big) > 5 * 1024 * 1024
    doc = wait_built(client, function_id, upload(stack, function_id, big)["$id"])
    assert doc["status"] == "ready" and doc["sourceSize"] == len(big)
    assert execute(client, function_id)["version"] == "big"


def test_failed_builds_keep_the_active_deployment_and_say_why(stack, function_id):
    client = make_client(stack)
    good = wait_built(client, function_id, upload(stack, function_id, code("good"))["$id"])
    missing = wait_built(client, function_id,
                         upload(stack, function_id, code("bad", "no-such-package-bigtech==9.9\n"))["$id"])
    assert missing["status"] == "failed" and "no-such-package-bigtech" in missing["buildLogs"]
    evil = archive({"src/main.py": b"def main(context):\n    return context.res.empty()\n", "../escape.py": b"x"})
    unsafe = wait_built(client, function_id, upload(stack, function_id, evil)["$id"])
    assert unsafe["status"] == "failed" and "unsafe path" in unsafe["buildLogs"]
    assert not (stack.settings.data_dir / "deployments" / function_id / unsafe["$id"] / "escape.py").exists()
    assert client.call("get", f"/functions/{function_id}")["deploymentId"] == good["$id"]
    with pytest.raises(AppwriteException) as error:
        client.call("patch", f"/functions/{function_id}/deployment", {"content-type": "application/json"},
                    {"deploymentId": missing["$id"]})
    assert error.value.code == 400 and error.value.type == "build_not_ready"
    assert execute(client, function_id)["version"] == "good"


def test_function_update_variables_and_delete(stack, function_id):
    client = make_client(stack)
    updated = client.call("put", f"/functions/{function_id}", {"content-type": "application/json"},
                          {"name": "tiny renamed", "execute": ["any"], "timeout": 30, "scopes": ["users.read"],
                           "entrypoint": "src/main.py", "commands": "", "vars": "[]"})
    assert (updated["name"], updated["execute"], updated["timeout"]) == ("tiny renamed", ["any"], 30)
    assert updated["runtime"] == "python-3.12"
    variable = post(client, f"/functions/{function_id}/variables", {"key": "TOKEN", "value": "s3cret", "secret": True})
    assert variable["value"] == "" and variable["secret"] is True
    with pytest.raises(AppwriteException) as duplicate:
        post(client, f"/functions/{function_id}/variables", {"key": "TOKEN", "value": "again"})
    assert duplicate.value.code == 409
    with pytest.raises(AppwriteException) as bad_key:
        post(client, f"/functions/{function_id}/variables", {"key": "1-bad key", "value": "x"})
    assert bad_key.value.code == 400
    path = f"/functions/{function_id}/variables/{variable['$id']}"
    assert client.call("get", path)["key"] == "TOKEN"
    client.call("put", path, {"content-type": "application/json"}, {"key": "TOKEN_2", "value": "other"})
    assert [v["key"] for v in client.call("get", f"/functions/{function_id}/variables")["variables"]] == ["TOKEN_2"]
    client.call("delete", path)
    assert client.call("get", f"/functions/{function_id}/variables")["total"] == 0
    client.call("delete", f"/functions/{function_id}")
    with pytest.raises(AppwriteException) as gone:
        client.call("get", f"/functions/{function_id}")
    assert gone.value.code == 404


def test_bad_function_input_is_refused_and_changes_nothing(stack):
    client = make_client(stack)
    for params in ({"functionId": "x-bad-runtime", "name": "x", "runtime": "node-99"},
                   {"functionId": "x-bad-timeout", "name": "x", "runtime": "python-3.12", "timeout": 100000},
                   {"functionId": "bad id!", "name": "x", "runtime": "python-3.12"}):
        with pytest.raises(AppwriteException) as error:
            post(client, "/functions", params)
        assert error.value.code == 400
    with pytest.raises(AppwriteException) as exists:
        post(client, "/functions", {"functionId": "health", "name": "x", "runtime": "python-3.12"})
    assert exists.value.code == 409
    ids = {f["$id"] for f in client.call("get", "/functions", params={"queries": []})["functions"]}
    assert not {"x-bad-runtime", "x-bad-timeout"} & ids


def test_managing_functions_needs_a_key_with_the_scope(stack, function_id):
    headers = {"x-appwrite-project": stack.settings.project_id}
    denied = httpx.post(f"{stack.endpoint}/functions/{function_id}/deployments", headers=headers,
                        data={"activate": "true"}, files={"code": ("c.tar.gz", code("x"), "application/gzip")})
    assert denied.status_code == 401
    version = httpx.get(f"{stack.endpoint}/health/version", headers={"x-appwrite-project": "console"})
    assert version.status_code == 200 and version.json() == {"version": "1.9.6"}
