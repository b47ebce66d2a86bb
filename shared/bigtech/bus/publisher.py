"""Connection handling and confirmed publishing.

One `BusConnection` per relay run (Appwrite executions are short-lived; never cache a connection across them).
Every pika/socket failure inside the `with` block surfaces as `BusUnavailable`, so callers handle one error type.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import pika
import pika.exceptions

from .envelope import EventEnvelope
from .errors import BusUnavailable, PublishNotConfirmed

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_HEARTBEAT = 15  # detects a silently dead broker while waiting for a confirm


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


class AmqpPublisher:
    """Publishes envelopes to the topic exchange and waits for each confirm (the channel is in confirm mode)."""

    def __init__(self, channel, exchange: str) -> None:
        self.channel = channel
        self.exchange = exchange

    def publish(self, envelope: EventEnvelope) -> bool:
        """True once the broker confirmed it into at least one queue; False if it was unroutable (returned:
        no subscriber binds this type — still confirmed, so the row counts as published). Raises
        `PublishNotConfirmed` on a nack and `BusUnavailable` when the connection breaks."""
        try:
            self.channel.basic_publish(
                exchange=self.exchange,
                routing_key=envelope.type,
                body=envelope.to_body(),
                properties=envelope.amqp_properties(),
                mandatory=True,
            )
        except pika.exceptions.UnroutableError:
            log.info("event %s (%s) is unroutable: no subscriber binds it", envelope.id, envelope.type)
            return False
        except pika.exceptions.NackError as exc:
            raise PublishNotConfirmed(f"broker nacked event {envelope.id}") from exc
        except (pika.exceptions.AMQPError, OSError) as exc:
            raise BusUnavailable(f"publish of {envelope.id} failed: {describe(exc)}") from exc
        return True
