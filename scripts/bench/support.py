"""Helpers for benchmarks: a private local stack and SDK clients pointed at it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from appwrite.client import Client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def private_stack(**overrides: Any) -> Iterator[Any]:
    """A ``LocalAppwrite`` on a free port with a temp data dir, stopped afterwards."""
    from local_appwrite import LocalAppwrite, StackSettings

    settings = StackSettings.for_tests(free_port(), **overrides)
    with LocalAppwrite(settings) as stack:
        yield stack


def client_for(stack: Any) -> Client:
    return Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id).set_key(stack.settings.api_key)


def timed(operation: Callable[[], Any], repeat: int) -> list[float]:
    """Run ``operation`` ``repeat`` times; one wall-clock sample (seconds) per run."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        operation()
        samples.append(time.perf_counter() - started)
    return samples
