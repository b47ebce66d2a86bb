"""Build mode: each function runs in its own worker process from its build folder, like a warm container."""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from tests.conftest import make_client
from tests.fixtures.project_stack import PROJECT_DIR, project_stack

REPO_ROOT = Path(__file__).resolve().parents[2]
# What the real build writes at the root of each function (scripts/build_functions.py): the runtime
# imports function.src.main from the folder's parent, so the folder must put itself on sys.path.
BOOTSTRAP = """import os as _os
import sys as _sys

_root = _os.path.dirname(_os.path.abspath(__file__))
if _root not in _sys.path:
    _sys.path.insert(0, _root)
"""


def tiny_build(out: Path, function_id: str, source: str, bootstrap: bool = True) -> Path:
    """A build like the real one: the function folder + ``bigtech/`` at its root + the bootstrap."""
    target = out / function_id
    shutil.copytree(PROJECT_DIR / "functions" / source, target, ignore=shutil.ignore_patterns("__pycache__"))
    library = REPO_ROOT / "shared" / "bigtech"
    if (library / "__init__.py").is_file():
        shutil.copytree(library, target / "bigtech", ignore=shutil.ignore_patterns("__pycache__"))
    else:
        (target / "bigtech").mkdir()
        (target / "bigtech" / "__init__.py").write_text('"""Stand-in for the vendored library."""\n')
    if bootstrap:
        (target / "__init__.py").write_text(BOOTSTRAP)
    (target / "requirements.txt").write_text("appwrite>=27,<28\n")
    return target


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    tiny_build(out, "echo", "echo")
    tiny_build(out, "scoped", "echo")
    tiny_build(out, "public", "echo", bootstrap=False)
    return out


@pytest.fixture(scope="module")
def bstack(build_dir):
    with project_stack(functions_mode="build", build_dir=build_dir, sync_timeout_seconds=10.0) as running:
        yield running


@pytest.fixture(scope="module")
def functions(bstack):
    return Functions(make_client(bstack))


def body(execution):
    return json.loads(execution.responsebody)


def test_worker_runs_the_built_function(functions, bstack, build_dir):
    execution = functions.create_execution("echo", body='{"a": 1}', path="/x?y=1")
    assert execution.status.value == "completed"
    seen = body(execution)
    assert seen["body_json"] == {"a": 1}
    assert seen["query"] == {"y": "1"}
    assert seen["shout"] == "HI!"
    assert seen["env"]["APPWRITE_FUNCTION_ID"] == "echo"
    assert seen["env"]["APPWRITE_FUNCTION_DEPLOYMENT"] == "local-build"
    assert seen["env"]["ECHO_VAR"] == "from-appwrite-json"
    assert seen["headers"]["x-appwrite-key"].startswith("ephemeral_")
    assert execution.logs == 'mode echo {"n":1}\n'
    assert bstack.functions.runner.cold_starts["echo"] > 0


def test_project_variables_reach_the_worker(functions, monkeypatch):
    """The stack's BIGTECH_* environment plays Appwrite's project variables, in a worker process too."""
    monkeypatch.setenv("BIGTECH_PROBE", "shared-by-every-function")
    seen = body(functions.create_execution("echo", body="{}"))
    assert seen["env"]["BIGTECH_PROBE"] == "shared-by-every-function"


def test_worker_imports_only_its_build(functions, build_dir):
    seen = body(functions.create_execution("echo", path="/?mode=bigtech"))
    assert seen["local_appwrite"] is False
    assert seen["path"] == [str((build_dir / "echo" / "bigtech").resolve())]


def test_a_build_without_the_bootstrap_cannot_import_bigtech(functions):
    execution = functions.create_execution("public", path="/?mode=bigtech")
    assert execution.responsestatuscode == 500
    assert "ModuleNotFoundError: No module named 'bigtech'" in execution.errors


def test_worker_is_warm_and_serves_concurrent_executions(functions, bstack):
    functions.create_execution("echo", path="/?mode=empty")
    pid = bstack.functions.runner.workers["echo"].process.pid
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: functions.create_execution("echo", path="/?mode=sleep&s=1"), range(4)))
    assert [r.responsebody for r in results] == ["slept"] * 4
    assert time.monotonic() - started < 3.5
    assert bstack.functions.runner.workers["echo"].process.pid == pid
    workers = make_client(bstack).call("get", "/local/functions/workers")
    assert workers["mode"] == "build"
    assert workers["workers"]["echo"]["pid"] == pid
    assert workers["workers"]["echo"]["coldStartSeconds"] > 0


def test_each_function_has_its_own_process_and_environment(functions, bstack):
    ids = ["echo", "scoped"] * 3
    with ThreadPoolExecutor(len(ids)) as pool:
        results = list(pool.map(lambda fid: functions.create_execution(fid, path="/?mode=env&s=0.2"), ids))
    assert [body(r)["id"] for r in results] == ids
    workers = bstack.functions.runner.workers
    assert workers["echo"].process.pid != workers["scoped"].process.pid


def test_errors_and_timeouts_in_a_worker(functions):
    failed = functions.create_execution("echo", path="/?mode=raise")
    assert failed.responsestatuscode == 500
    assert "RuntimeError: boom from echo" in failed.errors
    assert "Return statement missing" in functions.create_execution("echo", path="/?mode=none").errors
    allowed = body(functions.create_execution("scoped", path="/?mode=health"))
    assert allowed == {"status": "pass"}


def test_unbuilt_function_is_not_ready(functions):
    with pytest.raises(AppwriteException) as error:
        functions.create_execution("locked")
    assert (error.value.code, error.value.type) == (400, "build_not_ready")


def test_workers_stop_with_the_stack(build_dir):
    with project_stack(functions_mode="build", build_dir=build_dir) as stack:
        Functions(make_client(stack)).create_execution("echo", path="/?mode=empty")
        process = stack.functions.runner.workers["echo"].process
    assert process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
