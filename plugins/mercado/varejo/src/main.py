"""mercado-varejo: the retail catalogue (docs/mercado.md).

The catalogue is the plugin's tenant config (prices, products, packages), managed by owners/admins
through the plugin loader (``PUT /plugins/mercado-varejo``: validated by the manifest, then by this
function's ``/enable`` against the platform's catalogue bounds (``bounds.py``), audited,
``plugin.configured``). CORE reads it through ``bigtech.market``. This function serves the plugin
protocol (CORE only) and ``GET /prices``, the price list ("tabela de preços") for signed-in members.
"""

from pathlib import Path
from typing import Any

from bigtech import appwrite_access, market
from bigtech.http import Request, serve
from bigtech.identity import authenticate, current
from bigtech.plugins import PluginContext, PluginResult, Status, build_router
from bigtech.plugins.base import Plugin
from bigtech.plugins.service import core_only

from . import bounds


class VarejoPlugin(Plugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def execute(self, ctx: PluginContext) -> PluginResult:
        return PluginResult.error(Status.FAILED, "unsupported", "mercado-varejo runs no consulta.")


PLUGIN = VarejoPlugin()


def price_list(request: Request) -> Any:
    """The tenant's effective prices (catalogue over the platform's), its products and packages on sale."""
    identity = current(request)
    tenant = identity.require_tenant()
    tables = appwrite_access.tables(request)
    config = market.varejo_config(tables, identity.database_id)
    prices, source = market.prices(tables, identity.database_id, tenant.settings, config)
    # docs/api-style.md: one resource, credits and cents named so (the config's ``price`` is in credits)
    products = [{**{k: v for k, v in product.items() if k != "price"}, "price_credits": product.get("price")}
                for product in (config or {}).get("products") or []]
    packages = [{**package, "currency": "BRL"} for package in market.active_packages(config)]
    return {"price_list": {"id": identity.tenant_id, "source": source, "price_credits_by_category": prices,
                           "products": products, "packages": packages}}


_plugin_gate = core_only(PLUGIN.id)


def before(request: Request, route: Any) -> None:
    if route.action.startswith("plugin."):
        _plugin_gate(request, route)
        if route.action == "plugin.enable":
            bounds.check_enable(request)
    else:
        authenticate(request, route)


router = build_router(PLUGIN)
router.add("GET", "/prices", price_list, action="prices.read")

main = serve(router, before=[before])
main.plugin = PLUGIN  # type: ignore[attr-defined]
