"""Bigtech event bus: transactional outbox → RabbitMQ (or direct) → subscribers, exactly once in effect."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .claims import InMemoryOutboxStore, OutboxRow, OutboxStatus, OutboxStore
    from .config import BusConfig
    from .dedupe import InMemoryProcessedEvents, ProcessedEvents, idempotent, processed_row_id
    from .deliveries import DeliveryRecord, DeliveryStatus, DeliveryStore, InMemoryDeliveryStore
    from .envelope import EventEnvelope
    from .errors import BusError, BusUnavailable, DeliveryFailed, InvalidEvent, PublishNotConfirmed
    from .execution import execution_deliverer
    from .ops import AmqpOps, DeadLetter, DirectOps, QueueStatus
    from .patterns import topic_matches
    from .relay import BUS_URL_ENV, Relay, RelayReport, bus_url_from_env
    from .subscribers import Subscriber
    from .topology import Topology

# Imported on first use (PEP 562), not with the package: a function that only stages events
# (bigtech.outbox_writer → bigtech.bus.envelope) must not load pika, the relay and the plugin SDK on a cold start.
_EXPORTS = {
    "InMemoryOutboxStore": ".claims",
    "OutboxRow": ".claims",
    "OutboxStatus": ".claims",
    "OutboxStore": ".claims",
    "BusConfig": ".config",
    "InMemoryProcessedEvents": ".dedupe",
    "ProcessedEvents": ".dedupe",
    "idempotent": ".dedupe",
    "processed_row_id": ".dedupe",
    "DeliveryRecord": ".deliveries",
    "DeliveryStatus": ".deliveries",
    "DeliveryStore": ".deliveries",
    "InMemoryDeliveryStore": ".deliveries",
    "EventEnvelope": ".envelope",
    "BusError": ".errors",
    "BusUnavailable": ".errors",
    "DeliveryFailed": ".errors",
    "InvalidEvent": ".errors",
    "PublishNotConfirmed": ".errors",
    "execution_deliverer": ".execution",
    "AmqpOps": ".ops",
    "DeadLetter": ".ops",
    "DirectOps": ".ops",
    "QueueStatus": ".ops",
    "topic_matches": ".patterns",
    "BUS_URL_ENV": ".relay",
    "Relay": ".relay",
    "RelayReport": ".relay",
    "bus_url_from_env": ".relay",
    "Subscriber": ".subscribers",
    "Topology": ".topology",
}


__getattr__ = exports(__name__, _EXPORTS)

__all__ = [
    "BUS_URL_ENV",
    "AmqpOps",
    "BusConfig",
    "BusError",
    "BusUnavailable",
    "DeadLetter",
    "DeliveryFailed",
    "DeliveryRecord",
    "DeliveryStatus",
    "DeliveryStore",
    "DirectOps",
    "EventEnvelope",
    "InMemoryDeliveryStore",
    "InMemoryOutboxStore",
    "InMemoryProcessedEvents",
    "InvalidEvent",
    "OutboxRow",
    "OutboxStatus",
    "OutboxStore",
    "ProcessedEvents",
    "PublishNotConfirmed",
    "QueueStatus",
    "Relay",
    "RelayReport",
    "Subscriber",
    "Topology",
    "bus_url_from_env",
    "execution_deliverer",
    "idempotent",
    "processed_row_id",
    "topic_matches",
]
