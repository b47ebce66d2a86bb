"""Fixtures shared by every test: a running local Appwrite and SDK clients pointed at it."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest
from appwrite.client import Client

from local_appwrite import LocalAppwrite, StackSettings
from local_appwrite.stack_settings import fresh_secrets
from tests.contract.recorder import RECORDER

# The contract check over every recorded response runs once at the session's end (xdist-aware).
pytest_plugins = ["tests.contract.session_check"]

# Fresh random keys for this session (secrets box, audit signing, data HMAC), set before any test module
# is imported: the functions (project variables = the BIGTECH_* environment) and the tests' own
# library calls share them, and no key is a constant in the repository. A key already exported wins.
TEST_SECRETS = {name: os.environ.setdefault(name, value) for name, value in fresh_secrets().items()}

_original_init = LocalAppwrite.__init__


def _recording_init(self: LocalAppwrite, *args: object, **kwargs: object) -> None:
    _original_init(self, *args, **kwargs)
    self.dispatcher.observers.append(RECORDER.observe)


LocalAppwrite.__init__ = _recording_init  # every stack in the session feeds the contract test

# The suite's stacks are test deployments, and say so: BIGTECH_* reaches every function as a project
# variable, and a function without BIGTECH_ENV counts as production (no sandbox payment simulation).
os.environ.setdefault("BIGTECH_ENV", "test")


def _never_proxied(*hosts: str) -> None:
    """Every stack (and stub server) of the suite is on the loopback: no proxy applies to it. Said in
    ``no_proxy``, it also spares each ``requests`` call (the tests' SDK calls and the functions' own, in this
    process) two scans of the whole environment looking for proxy variables, ~6% of the suite's CPU."""
    listed = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    names = [name for name in listed.split(",") if name.strip()]
    value = ",".join(names + [host for host in hosts if host not in names])
    os.environ["no_proxy"] = os.environ["NO_PROXY"] = value


_never_proxied("127.0.0.1", "localhost")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Contract tests run last, so they check what every other test made the stack answer."""
    items.sort(key=lambda item: item.get_closest_marker("contract") is not None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalAppwrite]:
    """One stack for the whole session, on a free port, with its data in a temp dir."""
    # Synchronous executions may wait 120 s here (Appwrite, and the stack's default: 30 s): the suite's
    # 100-concurrent-call tests run every function in this one process on a 2-core machine, where a
    # burst can pass 30 s without anything being wrong. The 408 itself is tested on stacks of their own.
    settings = StackSettings.for_tests(free_port(), variables=TEST_SECRETS, sync_timeout_seconds=120)
    with LocalAppwrite(settings) as running:
        yield running


def make_client(stack: LocalAppwrite, *, key: str | None = None, jwt: str | None = None) -> Client:
    client = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    if jwt is not None:
        return client.set_jwt(jwt)
    return client.set_key(key if key is not None else stack.settings.api_key)


@pytest.fixture
def client(stack: LocalAppwrite) -> Client:
    """An SDK client with the stack's dev API key (every scope)."""
    return make_client(stack)
