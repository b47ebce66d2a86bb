"""tenants: the platform admin's tenant and settings management (DESIGN §7).

Table of contents; handlers live in ``tenants.py`` and ``settings_routes.py``. Every route declares its
action; ``bigtech.identity.authenticate`` resolves the caller and checks the permission matrix first.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import settings_routes, tenants

router = Router()
router.add("POST", "/", tenants.create, action="tenants.create")
router.add("GET", "/", tenants.list_tenants, action="tenants.list")
router.add("GET", "/settings", settings_routes.read, action="settings.read")
router.add("PATCH", "/settings", settings_routes.update, action="settings.update")
router.add("GET", "/{tenant_id}", tenants.read, action="tenants.read")
router.add("PATCH", "/{tenant_id}", tenants.update, action="tenants.update")
router.add("POST", "/{tenant_id}/suspend", tenants.suspend, action="tenants.suspend")
router.add("POST", "/{tenant_id}/reactivate", tenants.reactivate, action="tenants.reactivate")

main = serve(router, before=[authenticate])
