"""billing: wallets, the ledger statement and credit grants (docs/credits-consultas-plugins.md#billing-billing).

Table of contents: one line per route, handlers in their own modules (``wallet.py``, ``statement.py``,
``grants.py``); the money logic is ``bigtech.credits``. Packages and orders join here as more lines.
"""

from bigtech.http import Router, serve
from bigtech.http.route_doc import RouteDoc

from . import crediting, grants, orders, packages, reaping, statement, wallet

router = Router()
router.add("GET", "/wallet", wallet.read, action="wallet.read")
router.add("GET", "/ledger", statement.list_entries, action="ledger.list")
router.add("POST", "/grants", grants.create, action="grants.create")
router.add("GET", "/packages", packages.list_packages, action="packages.list")
router.add("POST", "/orders", orders.create, action="orders.create",
           doc=RouteDoc(status=201, summary="Buy a credit package: the order and its payment instructions",
                        example={"package_id": "starter", "method": "pix"}))
router.add("GET", "/orders", orders.list_orders, action="orders.list")
router.add("GET", "/orders/{order_id}", orders.read, action="orders.read")
router.add("POST", "/events", crediting.handle_event, action=crediting.EVENTS_ACTION)  # the relay: payment.*
router.add("POST", "/", reaping.run, action=reaping.REAP_ACTION)  # the schedule: stale holds and keys

main = serve(router, before=[crediting.authenticate_members])
