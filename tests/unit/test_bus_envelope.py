"""The envelope's JSON and AMQP forms."""

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from bigtech.bus import EventEnvelope, InvalidEvent, processed_row_id


def test_roundtrip_through_amqp_body_and_properties():
    event = EventEnvelope(type="payment.confirmed", tenant_id="t1", actor="user:42", data={"amount": 990},
                          occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    props = event.amqp_properties()
    assert props.message_id == event.id and props.delivery_mode == 2 and props.content_type == "application/json"
    assert props.headers == {"tenant_id": "t1", "type": "payment.confirmed"}
    assert EventEnvelope.from_amqp(event.to_body(), props) == event
    assert EventEnvelope.from_json(event.to_json()).data == {"amount": 990}


def test_defaults_and_validation():
    event = EventEnvelope(type="tenant.created", tenant_id="t1")
    assert len(event.id) == 32 and event.version == 1 and event.data == {} and event.occurred_at.tzinfo
    for bad_type in ("payment", "payment.*", "Payment.Confirmed", "payment..x"):
        with pytest.raises(ValidationError):
            EventEnvelope(type=bad_type, tenant_id="t1")
    with pytest.raises(ValidationError):
        EventEnvelope(type="tenant.created", tenant_id="t1", unexpected=1)


def test_invalid_bodies_raise_invalid_event():
    with pytest.raises(InvalidEvent):
        EventEnvelope.from_amqp(b"not json")
    event = EventEnvelope(type="tenant.created", tenant_id="t1")
    props = event.amqp_properties()
    props.message_id = "someone-else"
    with pytest.raises(InvalidEvent):
        EventEnvelope.from_amqp(event.to_body(), props)


def test_processed_row_id_is_a_valid_deterministic_appwrite_id():
    a = processed_row_id("billing", "e1")
    assert a == processed_row_id("billing", "e1") != processed_row_id("audit", "e1")
    assert len(a) <= 36 and a[0].isalpha() and a.isalnum()
