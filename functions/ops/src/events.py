"""``POST /events`` (the relay, with a key and no user): ``consulta.*``, ``credits.*`` and ``payment.*``
events become platform usage rows and business counters in the core database, once per event
(``bigtech.ops.usage_events``). Other event types are acknowledged and skipped."""

from __future__ import annotations

from typing import Any

from bigtech import appwrite_access
from bigtech.bus.inbound import delivered_event
from bigtech.http import Request
from bigtech.ops.usage_events import apply

EVENTS_ACTION = "ops.events"


def handle(request: Request) -> Any:
    envelope = delivered_event(request)
    outcome = apply(appwrite_access.tables(request), envelope)
    if not outcome.usage and not outcome.counters:
        return {"processed": False, "reason": "not_counted"}
    request.log.log(f"ops: {envelope.type} {envelope.id} tenant={envelope.tenant_id} "
                    f"{'counted' if outcome.applied else 'duplicate'}")
    return {"processed": outcome.applied, "duplicate": not outcome.applied, "usage_rows": outcome.usage,
            "counters": outcome.counters}
