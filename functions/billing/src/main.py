"""billing: wallets, the ledger statement and credit grants (docs/credits-consultas-plugins.md#billing-billing).

Table of contents: one line per route, handlers in their own modules (``wallet.py``, ``statement.py``,
``grants.py``); the money logic is ``bigtech.credits``. Packages and orders join here as more lines.
Handlers are named, not imported (``lazy.handler``): a cold worker loads a route's module the first time
it serves that route; ``access.py`` (who may call what) is the only route-independent part.
"""

from bigtech.http import RouteDoc, Router, serve
from bigtech.lazy import handler

from .access import EVENTS_ACTION, REAP_ACTION, authenticate_members

router = Router()
router.add("GET", "/wallet", handler(".wallet:read", __package__), action="wallet.read")
router.add("GET", "/ledger", handler(".statement:list_entries", __package__), action="ledger.list")
router.add("POST", "/grants", handler(".grants:create", __package__), action="grants.create")
router.add("GET", "/packages", handler(".packages:list_packages", __package__), action="packages.list")
router.add("POST", "/orders", handler(".orders:create", __package__), action="orders.create",
           doc=RouteDoc(status=201, summary="Buy a credit package: the order and its payment instructions",
                        example={"package_id": "starter", "method": "pix"}))
router.add("GET", "/orders", handler(".orders:list_orders", __package__), action="orders.list")
router.add("GET", "/orders/{order_id}", handler(".orders:read", __package__), action="orders.read")
router.add("POST", "/events", handler(".crediting:handle_event", __package__), action=EVENTS_ACTION)  # the relay
router.add("POST", "/", handler(".reaping:run", __package__), action=REAP_ACTION)  # the schedule

main = serve(router, before=[authenticate_members])
