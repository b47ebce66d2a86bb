"""The contract check: every response a local stack gave in this test session honours Appwrite's spec.

It runs once, at the very end of the session, over what ``recorder.py`` collected from every test —
a test function could not, as with pytest-xdist no test runs after all the others. Each xdist worker
saves its samples when its session ends; the controller (or the single process without xdist) merges
them, validates them against ``appwrite-1.8.1-server.openapi.json`` and fails the run on a mismatch,
listing each one under a "contract" section of the report. When ``test_contract.py`` ran, it also fails
the run if a route the stack implements was never answered successfully by any test. And every function
answer that passed through ``createExecution``/``getExecution`` must follow docs/api-style.md (the
recorder checks each as it passes, ``tests/support/api_style.py``).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.contract.openapi import ContractValidator
from tests.contract.recorder import RECORDER, Recorder

WORKER_DIR = "bigtech_contract_dir"
LOCAL_ONLY_PREFIX = "/local/"
# Routes of Appwrite's *console* spec (not the server spec) that the Appwrite CLI calls: `appwrite client`
# probes the version, `push functions` lists proxy rules to print a function's domain.
CONSOLE_ROUTES = {("GET", "/health/version"), ("GET", "/proxy/rules")}


def outside_server_spec(method: str, route: str) -> bool:
    return route.startswith(LOCAL_ONLY_PREFIX) or (method, route) in CONSOLE_ROUTES


def spec_problems(recorder: Recorder, validator: ContractValidator) -> list[str]:
    problems: list[str] = []
    for sample in recorder.all():
        if sample.route is None or outside_server_spec(sample.method, sample.route):
            continue
        problems += validator.check(sample.method, sample.path, sample.status, sample.body)
    return problems


def routes_never_answered(recorder: Recorder) -> list[str]:
    seen = recorder.routes_seen(successful=True)
    return [f"{method} {route}" for method, route in sorted(recorder.required_routes - seen)]


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    if not _is_worker(config):
        config.stash[_dir_key] = Path(tempfile.mkdtemp(prefix="bigtech-contract-"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:  # xdist: tell each worker where to leave its samples
    node.workerinput[WORKER_DIR] = str(node.config.stash[_dir_key])


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if _is_worker(config):
        folder = Path(config.workerinput[WORKER_DIR])  # type: ignore[attr-defined]
        RECORDER.save(folder / f"{config.workerinput['workerid']}.json")  # type: ignore[attr-defined]
        return
    folder = config.stash[_dir_key]
    merged = Recorder()
    for saved in sorted(folder.glob("*.json")):
        merged.load(saved)
    shutil.rmtree(folder, ignore_errors=True)
    for answered in list(RECORDER.samples):
        merged.samples.setdefault(answered, [])  # answered, maybe without a sample
    merged.merge(RECORDER.all(), RECORDER.required_routes)
    merged.style.update(RECORDER.style)
    merged.executions_checked += RECORDER.executions_checked
    if not merged.all() or exitstatus == pytest.ExitCode.INTERRUPTED:
        return
    _fail_on(session, "responses that break Appwrite's spec", spec_problems(merged, ContractValidator()))
    _fail_on(session, "routes never answered successfully in the session", routes_never_answered(merged))
    _fail_on(session, "function answers against docs/api-style.md", list(merged.style))


def _fail_on(session: pytest.Session, title: str, problems: list[str]) -> None:
    if not problems:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.section(f"contract: {title}", sep="=", red=True)
        for problem in problems:
            reporter.line(str(problem))
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


_dir_key = pytest.StashKey[Path]()
