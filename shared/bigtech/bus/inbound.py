"""The event the relay delivers to a subscriber function's ``POST /events`` (docs/events.md).

Only the relay calls it — with a key and no user — so an execution carrying a user is refused (403
``core_only``), and a body that is not an event envelope is 422 ``invalid_event``.
"""

from __future__ import annotations

from ..errors import Forbidden, Unprocessable
from ..http import Request
from .envelope import EventEnvelope
from .errors import InvalidEvent


def delivered_event(request: Request) -> EventEnvelope:
    if request.user_id:
        raise Forbidden("Events are delivered by the relay only.", code="core_only")
    try:
        return EventEnvelope.from_json(request.body)
    except InvalidEvent:
        raise Unprocessable("The body is not an event envelope.", code="invalid_event") from None


__all__ = ["delivered_event"]
