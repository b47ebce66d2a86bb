"""funcional-webhooks: outgoing webhooks (Standard Webhooks), docs/funcional.md.

Table of contents: the plugin routes (CORE only), the owners'/admins' routes (``bigtech.identity``),
and ``POST /`` for the schedule that retries deliveries.
"""

from typing import Any

from bigtech.appwrite_access import tables as tables_of
from bigtech.errors import Unprocessable
from bigtech.http import Request, Router, serve
from bigtech.identity import authenticate
from bigtech.plugins import build_router
from bigtech.plugins.service import core_only

from . import dispatch, routes
from .webhooks import WebhooksPlugin

plugin = WebhooksPlugin()
router = Router()
for base_route in build_router(plugin).routes:
    if base_route.path != "/events":
        router.add(base_route.method, base_route.path, base_route.handler, action=base_route.action)


@router.route("POST", "/events", action="plugin.events")
def events(request: Request) -> dict[str, Any]:
    envelope = request.json()
    if not isinstance(envelope, dict) or not isinstance(envelope.get("type"), str):
        raise Unprocessable.field("type", "an event envelope needs a type")
    if not plugin.manifest.subscribes(envelope["type"]):
        return {"processed": False, "reason": "not_subscribed"}
    return {"processed": True, **plugin.handle_event(tables_of(request), envelope)}


router.add("POST", "/", dispatch.run, action=dispatch.ACTION)
router.add("POST", "/endpoints", routes.create_endpoint, action="webhooks.create")
router.add("GET", "/endpoints", routes.list_endpoints, action="webhooks.list")
router.add("GET", "/endpoints/{endpoint_id}", routes.read_endpoint, action="webhooks.read")
router.add("PATCH", "/endpoints/{endpoint_id}", routes.update_endpoint, action="webhooks.update")
router.add("DELETE", "/endpoints/{endpoint_id}", routes.delete_endpoint, action="webhooks.delete")
router.add("POST", "/endpoints/{endpoint_id}/rotate-secret", routes.rotate_secret, action="webhooks.rotate")
router.add("POST", "/endpoints/{endpoint_id}/test", routes.send_test, action="webhooks.test")
router.add("GET", "/endpoints/{endpoint_id}/deliveries", routes.endpoint_deliveries, action="webhook_log.list")
router.add("POST", "/endpoints/{endpoint_id}/replay", routes.replay_endpoint, action="webhooks.replay")
router.add("GET", "/messages/{message_id}/deliveries", routes.message_deliveries, action="webhook_log.read")
router.add("POST", "/messages/{message_id}/replay", routes.replay_message, action="webhooks.replay")

_core = core_only(plugin.id)


def gate(request: Request, route: Any) -> None:
    """Plugin routes need CORE's token; the schedule's route checks its own caller; the rest are users'."""
    if route.action.startswith("plugin."):
        _core(request, route)
    elif route.action != dispatch.ACTION:
        authenticate(request, route)


main = serve(router, before=[gate])
main.plugin = plugin  # type: ignore[attr-defined]
