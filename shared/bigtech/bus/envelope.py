"""The event envelope every Bigtech event travels in, and its AMQP (de)serialisation.

The same JSON body is stored in the outbox, published to RabbitMQ and POSTed to a subscriber's `/events` route,
so a subscriber never has to know whether the relay ran over the broker or in direct mode.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import InvalidEvent

CONTENT_TYPE = "application/json"
# Event types are dotted lower-case words (`payment.confirmed`); they double as AMQP routing keys, so no `*`/`#`.
EVENT_TYPE_PATTERN = r"^[a-z0-9_]+(\.[a-z0-9_]+)+$"
HEADER_TENANT = "tenant_id"
HEADER_TYPE = "type"


def new_event_id() -> str:
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


class EventEnvelope(BaseModel):
    """`{id, type, tenant_id, occurred_at, actor, data, version}` (docs/events.md#the-envelope)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=new_event_id, min_length=1, max_length=64)
    type: str = Field(pattern=EVENT_TYPE_PATTERN, max_length=128)
    tenant_id: str = Field(min_length=1, max_length=64)
    occurred_at: datetime = Field(default_factory=utc_now)
    actor: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    version: int = Field(default=1, ge=1)

    # -- JSON ---------------------------------------------------------------------------------------------------
    def to_json(self) -> str:
        return self.model_dump_json()

    def to_body(self) -> bytes:
        return self.to_json().encode()

    @classmethod
    def from_json(cls, raw: str | bytes | dict[str, Any]) -> EventEnvelope:
        try:
            if isinstance(raw, dict):
                return cls.model_validate(raw)
            return cls.model_validate_json(raw)
        except (ValidationError, ValueError) as exc:
            raise InvalidEvent(f"not an event envelope: {exc}") from exc

    # -- AMQP ---------------------------------------------------------------------------------------------------
    def amqp_headers(self) -> dict[str, Any]:
        return {HEADER_TENANT: self.tenant_id, HEADER_TYPE: self.type}

    def amqp_properties(self, extra_headers: dict[str, Any] | None = None):  # -> pika.BasicProperties
        """Persistent JSON message whose message_id is the event id (the consumers' dedupe key)."""
        import pika  # local import: the envelope is also used where pika is not needed

        headers = self.amqp_headers()
        if extra_headers:
            headers.update(extra_headers)
        return pika.BasicProperties(
            content_type=CONTENT_TYPE,
            delivery_mode=2,
            message_id=self.id,
            type=self.type,
            timestamp=int(self.occurred_at.timestamp()),
            headers=headers,
        )

    @classmethod
    def from_amqp(cls, body: bytes, properties: Any = None) -> EventEnvelope:
        """Parse a delivered message; the body is authoritative, the message_id must agree with it."""
        envelope = cls.from_json(body)
        message_id = getattr(properties, "message_id", None)
        if message_id and message_id != envelope.id:
            raise InvalidEvent(f"message_id {message_id!r} does not match event id {envelope.id!r}")
        return envelope


