"""Connection handling and confirmed publishing.

One `BusConnection` per relay run (Appwrite executions are short-lived; never cache a connection across them).
Every pika/socket failure inside the `with` block surfaces as `BusUnavailable`, so callers handle one error type.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import pika
import pika.exceptions
import pika.spec

from .envelope import EventEnvelope
from .errors import BusUnavailable

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_HEARTBEAT = 15  # detects a silently dead broker while waiting for a confirm
CONFIRM_TIMEOUT = 20.0  # seconds a batch may wait for its confirms before the broker counts as unavailable
WAIT_SLICE = 0.005  # seconds per I/O poll while waiting for confirms


def connection_parameters(url: str, *, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> pika.URLParameters:
    params = pika.URLParameters(url)
    params.connection_attempts = 1
    params.retry_delay = 0
    params.socket_timeout = timeout
    params.stack_timeout = timeout
    params.blocked_connection_timeout = timeout * 2
    params.heartbeat = DEFAULT_HEARTBEAT
    params.client_properties = {"connection_name": "bigtech-relay"}
    return params


class BusConnection:
    """A blocking connection with one confirm-mode channel; a context manager that maps failures to BusError."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self.connection: pika.BlockingConnection | None = None
        self.channel: Any = None  # pika.adapters.blocking_connection.BlockingChannel (pika is untyped)

    def open(self) -> BusConnection:
        try:
            self.connection = pika.BlockingConnection(connection_parameters(self.url, timeout=self.timeout))
            self.channel = self.connection.channel()
            self.channel.confirm_delivery()
        except (pika.exceptions.AMQPError, OSError) as exc:
            self.close()
            raise BusUnavailable(f"cannot connect to the broker: {describe(exc)}") from exc
        return self

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            try:
                connection.close()
            except Exception:  # closing a broken connection is best effort
                log.debug("closing broker connection failed", exc_info=True)

    def __enter__(self) -> BusConnection:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
        if exc is not None and isinstance(exc, pika.exceptions.AMQPError | OSError) and not isinstance(
            exc, pika.exceptions.UnroutableError | pika.exceptions.NackError
        ):
            raise BusUnavailable(f"broker connection lost: {describe(exc)}") from exc


def describe(exc: BaseException) -> str:
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"[:500]


@dataclass
class BatchOutcome:
    """What the broker said about a batch: ids in publish order."""

    confirmed: list[str] = field(default_factory=list)  # acked (unroutable ones included: still confirmed)
    unroutable: set[str] = field(default_factory=set)  # returned (mandatory): no queue binds the type
    nacked: list[str] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)  # neither acked nor nacked when the wait ended
    error: BaseException | None = None  # why the wait ended early (the connection broke, the time ran out)


class BatchPublisher:
    """Publishes a whole batch, then waits for every confirm: one round trip per batch instead of one per
    message (what a plain ``BlockingChannel`` in confirm mode does, waiting inside each ``basic_publish``).

    Its own channel on the run's connection, in confirm mode through pika's underlying channel (the blocking
    adapter has no pipelined confirms), so the run's main channel keeps its one-at-a-time confirms for
    dead-lettering. Delivery tags count publishes from 1; a ``multiple`` ack/nack settles every tag up to
    its own; a mandatory message no queue takes comes back as ``basic.return`` before its ack."""

    def __init__(self, connection: Any, exchange: str, *, timeout: float = CONFIRM_TIMEOUT) -> None:
        self.connection = connection
        self.exchange = exchange
        self.timeout = timeout
        self._acks: dict[int, bool] = {}  # confirmed tags of the batch being published → acked?
        self._awaiting: set[int] = set()  # published tags no confirm has settled yet
        self._returned: set[str] = set()
        self._next_tag = 1
        try:
            self.channel = connection.channel()
            ready: list[bool] = []
            self.channel._impl.add_on_return_callback(self._on_return)
            self.channel._impl.confirm_delivery(ack_nack_callback=self._on_confirm,
                                                callback=lambda _frame: ready.append(True))
            self._wait(lambda: bool(ready), time.monotonic() + self.timeout)
        except (pika.exceptions.AMQPError, OSError) as exc:
            raise BusUnavailable(f"cannot open a publishing channel: {describe(exc)}") from exc

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, pika.spec.Basic.Ack)
        # Only tags still awaiting a confirm: a ``multiple`` one settles those up to its own (a walk from tag 1
        # would grow with every message the run published and bring back tags already handed out).
        tags = [t for t in self._awaiting if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            self._awaiting.discard(tag)
            self._acks[tag] = acked

    def _on_return(self, _channel: Any, _method: Any, properties: Any, _body: bytes) -> None:
        self._returned.add(str(getattr(properties, "message_id", "") or ""))

    def _wait(self, done: Any, deadline: float) -> None:
        # Short slices: the blocking adapter only returns early for its own events, and these callbacks are the
        # underlying channel's, so each call runs until its time limit.
        while not done():
            left = deadline - time.monotonic()
            if left <= 0:
                raise BusUnavailable(f"the broker did not confirm within {self.timeout:.0f} s")
            self.connection.process_data_events(time_limit=min(left, WAIT_SLICE))

    def publish(self, envelopes: Sequence[EventEnvelope]) -> BatchOutcome:
        """Publish every envelope (persistent, mandatory), then wait for all their confirms. Never raises for
        broker trouble: the outcome says which were confirmed, and ``error`` why the rest were not."""
        outcome = BatchOutcome()
        tags: list[tuple[int, str]] = []
        try:
            for envelope in envelopes:
                self._awaiting.add(self._next_tag)  # before sending: its confirm may arrive while the next is sent
                self.channel.basic_publish(self.exchange, envelope.type, envelope.to_body(),
                                           envelope.amqp_properties(), mandatory=True)
                tags.append((self._next_tag, envelope.id))
                self._next_tag += 1
            self._wait(lambda: all(tag in self._acks for tag, _ in tags), time.monotonic() + self.timeout)
        except (pika.exceptions.AMQPError, OSError, BusUnavailable) as exc:
            outcome.error = exc
        for tag, event_id in tags:
            acked = self._acks.pop(tag, None)
            if acked is True:
                outcome.confirmed.append(event_id)
                if event_id in self._returned:
                    outcome.unroutable.add(event_id)
            elif acked is False:
                outcome.nacked.append(event_id)
            else:
                outcome.unsettled.append(event_id)
        outcome.unsettled += [e.id for e in envelopes[len(tags):]]  # never even sent
        self._returned.difference_update(outcome.confirmed)
        return outcome
