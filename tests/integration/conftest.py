"""Integration fixtures. Tests marked `rabbitmq` need the real broker: they are skipped when it is unreachable,
unless BIGTECH_REQUIRE_RABBITMQ=1, in which case an unreachable broker is a failure."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse

import pika
import pytest

from bigtech.bus import Topology

RABBITMQ_URL = os.environ.get("BIGTECH_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")


def _broker_reachable(url: str) -> str | None:
    """None when the broker answers AMQP, else why not."""
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 5672), timeout=2):
            pass
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except Exception as exc:
        return f"RabbitMQ at {parsed.hostname}:{parsed.port} unreachable: {type(exc).__name__}: {exc}"
    return None


@pytest.fixture(scope="session")
def _rabbitmq_status() -> str | None:
    return _broker_reachable(RABBITMQ_URL)


@pytest.fixture(autouse=True)
def _rabbitmq_gate(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("rabbitmq") is None:
        return
    problem = request.getfixturevalue("_rabbitmq_status")
    if problem is None:
        return
    if os.environ.get("BIGTECH_REQUIRE_RABBITMQ") == "1":
        pytest.fail(f"{problem} (BIGTECH_REQUIRE_RABBITMQ=1)")
    pytest.skip(problem)


@dataclass
class BusSandbox:
    """A uniquely named exchange/queue set on the real broker, torn down after the test."""

    url: str
    topology: Topology
    subscriber_names: set[str] = field(default_factory=set)

    def with_limit(self, delivery_limit: int) -> Topology:
        self.topology = Topology(self.topology.exchange, self.topology.queue_prefix, delivery_limit)
        return self.topology

    def track(self, *names: str) -> None:
        self.subscriber_names.update(names)

    def channel(self):
        connection = pika.BlockingConnection(pika.URLParameters(self.url))
        return connection, connection.channel()

    def cleanup(self) -> None:
        connection, channel = self.channel()
        try:
            self.topology.delete(channel, self.subscriber_names)
        finally:
            connection.close()


@pytest.fixture
def bus_sandbox(_rabbitmq_gate) -> Iterator[BusSandbox]:
    uid = uuid.uuid4().hex[:10]
    sandbox = BusSandbox(RABBITMQ_URL, Topology(exchange=f"test-{uid}.events", queue_prefix=f"test-{uid}"))
    yield sandbox
    sandbox.cleanup()
