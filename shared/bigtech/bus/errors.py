"""Errors raised by the event bus, under Bigtech's one error hierarchy (`bigtech.errors.BigtechError`).

They are server-side failures (5xx if they ever reach an HTTP response); the relay normally catches them and
reports them in its run report instead.
"""

from __future__ import annotations

from bigtech.errors import BigtechError


class BusError(BigtechError):
    """Root of every event-bus failure."""

    status = 500
    default_code = "bus_error"
    default_message = "Event bus failure."


class BusUnavailable(BusError):
    """The broker could not be reached, or the connection broke mid-run. Nothing was lost: unconfirmed rows
    stay pending in the outbox and unacked deliveries go back to their queue."""

    status = 503
    default_code = "bus_unavailable"
    default_message = "The event broker is unavailable."


class PublishNotConfirmed(BusError):
    """The broker nacked a publish (or the confirm never came), so the outbox row must stay pending."""

    status = 503
    default_code = "publish_not_confirmed"
    default_message = "The event broker did not confirm a publish."


class DeliveryFailed(BusError):
    """A subscriber rejected an event (non-2xx from its `/events` route, or its handler raised)."""

    status = 502
    default_code = "delivery_failed"
    default_message = "A subscriber rejected an event."


class InvalidEvent(BusError):
    """A message on a queue is not a valid event envelope; it is dead-lettered straight away."""

    status = 500
    default_code = "invalid_event"
    default_message = "Not a valid event envelope."
