"""RabbitMQ topology: the topic exchange, the dead-letter exchange, and per-subscriber quorum queue + DLQ.

Everything is durable and re-declared (idempotently) by every relay run, so a new plugin's queue exists as soon
as the relay knows the plugin. Names are derived from a configurable exchange/prefix so tests can run isolated.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .subscribers import Subscriber

DEFAULT_EXCHANGE = "bigtech.events"
DEFAULT_PREFIX = "bigtech"
DEFAULT_DELIVERY_LIMIT = 5


@dataclass(frozen=True)
class Topology:
    exchange: str = DEFAULT_EXCHANGE
    queue_prefix: str = DEFAULT_PREFIX
    # Deliveries per message before it is dead-lettered. The relay dead-letters itself on the last attempt (so
    # the failure reason travels with the message); the broker's own `x-delivery-limit` (same number, which
    # RabbitMQ applies as "returned more than N times") only fires if a relay died mid-delivery.
    delivery_limit: int = DEFAULT_DELIVERY_LIMIT

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.exchange}.dlx"

    def queue(self, subscriber: str) -> str:
        return f"{self.queue_prefix}.q.{subscriber}"

    def dead_letter_queue(self, subscriber: str) -> str:
        return f"{self.queue_prefix}.dlq.{subscriber}"

    def queue_arguments(self, subscriber: str) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-delivery-limit": self.delivery_limit,
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-routing-key": subscriber,
            # At-least-once dead-lettering: the message leaves the queue only once the DLQ confirmed it.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def declare_exchanges(self, channel) -> None:
        channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
        channel.exchange_declare(self.dead_letter_exchange, exchange_type="direct", durable=True)

    def declare_subscriber(self, channel, subscriber: Subscriber) -> None:
        dlq = self.dead_letter_queue(subscriber.name)
        # Classic durable DLQ: it has no delivery limit, so browsing it (get + return) can never drop a message.
        channel.queue_declare(dlq, durable=True)
        channel.queue_bind(dlq, self.dead_letter_exchange, routing_key=subscriber.name)
        queue = self.queue(subscriber.name)
        channel.queue_declare(queue, durable=True, arguments=self.queue_arguments(subscriber.name))
        for pattern in subscriber.patterns:
            channel.queue_bind(queue, self.exchange, routing_key=pattern)

    def declare(self, channel, subscribers: Iterable[Subscriber]) -> None:
        self.declare_exchanges(channel)
        for subscriber in subscribers:
            self.declare_subscriber(channel, subscriber)

    def delete(self, channel, subscriber_names: Iterable[str]) -> None:
        """Tear down (tests and benchmarks only)."""
        for name in subscriber_names:
            channel.queue_delete(self.queue(name))
            channel.queue_delete(self.dead_letter_queue(name))
        channel.exchange_delete(self.exchange)
        channel.exchange_delete(self.dead_letter_exchange)
