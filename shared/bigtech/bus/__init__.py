"""Bigtech event bus: transactional outbox → RabbitMQ (or direct) → subscribers, exactly once in effect."""

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
