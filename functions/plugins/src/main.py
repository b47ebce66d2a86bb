"""plugins: the plugin catalog and each tenant's plugins
(docs/credits-consultas-plugins.md#plugin-loader-plugins, docs/plugins.md).

Table of contents; handlers live in ``catalog_routes.py`` and ``tenant_plugins.py``, the logic in
``bigtech.plugin_loader``. Every route declares its action; ``authenticate`` checks the matrix first.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import catalog_routes, tenant_plugins

router = Router()
router.add("GET", "/catalog", catalog_routes.list_catalog, action="plugin_catalog.list")
router.add("POST", "/catalog/sync", catalog_routes.sync, action="plugin_catalog.sync")
router.add("GET", "/", tenant_plugins.list_plugins, action="plugins.list")
router.add("PUT", "/{plugin_id}", tenant_plugins.configure, action="plugins.configure")
router.add("DELETE", "/{plugin_id}", tenant_plugins.remove, action="plugins.disable")

main = serve(router, before=[authenticate])
