"""plugins: the plugin catalog and each tenant's plugins
(docs/credits-consultas-plugins.md#plugin-loader-plugins, docs/plugins.md).

Table of contents; handlers live in ``catalog_routes.py`` and ``tenant_plugins.py``, the logic in
``bigtech.plugin_loader``. Every route declares its action; ``authenticate`` checks the matrix first.
Handlers are named, not imported (``lazy.handler``): a cold worker loads a route's module the first time
it serves that route.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate
from bigtech.lazy import handler

router = Router()
router.add("GET", "/catalog", handler(".catalog_routes:list_catalog", __package__), action="plugin_catalog.list")
router.add("POST", "/catalog/sync", handler(".catalog_routes:sync", __package__), action="plugin_catalog.sync")
router.add("GET", "/", handler(".tenant_plugins:list_plugins", __package__), action="plugins.list")
router.add("PUT", "/{plugin_id}", handler(".tenant_plugins:configure", __package__), action="plugins.configure")
router.add("DELETE", "/{plugin_id}", handler(".tenant_plugins:remove", __package__), action="plugins.disable")

main = serve(router, before=[authenticate])
