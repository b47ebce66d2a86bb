"""Build mode: each function instance is a worker process serving its build folder, one execution at a time."""

from __future__ import annotations

import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

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
    tiny_build(out, "chain", "chain")
    tiny_build(out, "slow", "slow")
    tiny_build(out, "ping", "hop")
    tiny_build(out, "pong", "hop")
    return out


@pytest.fixture(scope="module")
def bstack(build_dir):
    with project_stack(functions_mode="build", build_dir=build_dir, sync_timeout_seconds=60.0,
                       function_instances="1,scoped=2") as running:
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


def rendezvous_path(folder: Path, wait: float) -> str:
    return f"/?mode=rendezvous&at={quote(str(folder))}&wait={wait}"


def test_an_instance_serves_one_execution_at_a_time(functions, bstack, tmp_path):
    """Like Appwrite's Python runtime: two concurrent executions of a one-instance function run in turn.

    Each waits for the other at a rendezvous: the first waits alone until it gives up (its partner cannot
    start before it ends), then the second finds it there at once. Side by side, both would meet.
    """
    functions.create_execution("echo", path="/?mode=empty")
    pid = bstack.functions.runner.workers["echo"].process.pid
    with ThreadPoolExecutor(2) as pool:
        executions = list(pool.map(lambda _: functions.create_execution("echo", path=rendezvous_path(tmp_path, 1.5)),
                                   range(2)))
    alone, met = sorted(executions, key=lambda e: body(e)["met"])
    assert (body(alone)["met"], body(met)["met"]) == (False, True)
    assert {body(e)["pid"] for e in executions} == {pid}
    assert met.duration < alone.duration  # the time spent queued is not the execution's duration
    workers = make_client(bstack).call("get", "/local/functions/workers")
    assert workers["mode"] == "build"
    assert workers["workers"]["echo"]["pid"] == pid
    assert workers["workers"]["echo"]["coldStartSeconds"] > 0


def test_instance_count_is_configurable_per_function(functions, bstack, tmp_path):
    """``function_instances="1,scoped=2"``: two executions of ``scoped`` meet at a rendezvous, in two processes."""
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda _: body(functions.create_execution("scoped", path=rendezvous_path(tmp_path, 20))), range(2)))
    assert [r["met"] for r in results] == [True, True]
    assert len({r["pid"] for r in results}) == 2
    instances = bstack.functions.runner.instances["scoped"]
    assert len({w.process.pid for w in instances.values()}) == 2


def test_a_sync_execution_queued_past_the_timeout_gets_408(functions):
    """``slow`` (1 s timeout) is busy: a second, synchronous execution cannot start in time."""
    busy = functions.create_execution("slow", path="/?mode=sync", xasync=True)
    time.sleep(0.2)
    with pytest.raises(AppwriteException) as error:
        functions.create_execution("slow", path="/?mode=sync")
    assert (error.value.code, error.value.type) == (408, "function_synchronous_timeout")
    queued = [e for e in functions.list_executions("slow").executions if e.id != busy.id]
    assert any("No instance of slow became free" in e.errors for e in queued)


@pytest.mark.slow
def test_a_synchronous_self_call_is_reported_at_once(functions, bstack):
    """``chain`` executes itself synchronously: on Appwrite it waits for its own only instance until 408.

    The stack answers the inner call at once with 408 and a message naming the deadlock (and logs it), so
    the outer execution fails fast instead of hanging until the timeout.
    """
    started = time.monotonic()
    outer = functions.create_execution("chain", body=json.dumps({"depth": 2}))
    assert time.monotonic() - started < 25.0  # at once, not after the function's 30 s timeout
    assert outer.responsestatuscode == 500
    assert "AppwriteException" in outer.errors
    assert "would deadlock" in outer.errors
    inner = [e for e in functions.list_executions("chain").executions if e.id != outer.id]
    assert any(e.status.value == "failed" and "Deadlock detected" in e.errors for e in inner)


@pytest.mark.slow
def test_a_cycle_of_synchronous_executions_is_reported(functions):
    """ping → pong → ping, one instance each: ping's instance is held by the caller at the end of the cycle."""
    started = time.monotonic()
    outer = functions.create_execution("ping", body=json.dumps({"hops": ["pong", "ping"]}))
    assert time.monotonic() - started < 25.0  # at once, not after the function's 30 s timeout
    seen = body(outer)
    assert seen["fn"] == "ping"
    assert seen["inner"]["fn"] == "pong"
    error = seen["inner"]["error"]
    assert (error["code"], error["type"]) == (408, "function_synchronous_timeout")
    assert "'ping' would deadlock" in error["message"]


def test_calls_that_can_be_served_are_not_refused(functions):
    """A chain of synchronous calls through other functions is served: one instance each is enough."""
    seen = body(functions.create_execution("ping", body=json.dumps({"hops": ["pong"]})))
    assert seen == {"fn": "ping", "inner": {"fn": "pong"}}


def test_each_function_has_its_own_process_and_environment(functions, bstack):
    ids = ["echo", "scoped"] * 3
    with ThreadPoolExecutor(len(ids)) as pool:
        results = list(pool.map(lambda fid: functions.create_execution(fid, path="/?mode=env&s=0.2"), ids))
    assert [body(r)["id"] for r in results] == ids
    workers = bstack.functions.runner.workers
    assert workers["echo"].process.pid != workers["scoped"].process.pid


@pytest.mark.slow
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


@pytest.mark.slow
def test_asynchronous_executions_queue_without_timing_out(functions, bstack):
    """``slow`` has a 1 s timeout: three async runs queue behind each other (each 1 s) and all run, as in
    Appwrite's execution queue; only a synchronous caller's wait is bounded by the timeout."""
    started = [functions.create_execution("slow", path="/?mode=sync", xasync=True) for _ in range(3)]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        done = [functions.get_execution("slow", e.id) for e in started]
        if all(e.status.value in {"completed", "failed"} for e in done):
            break
        time.sleep(0.1)
    assert all("Execution timed out." in e.errors and "No instance" not in e.errors for e in done), done
