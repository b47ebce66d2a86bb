"""tenants: the platform admin's tenant and settings management (docs/tenants.md).

Table of contents; handlers live in ``tenants.py``, ``provisioning.py`` and ``settings_routes.py``. Every
route declares its action; ``bigtech.identity.authenticate`` resolves the caller and checks the permission
matrix first. The provisioning itself runs in the ``provisioning`` function.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import provisioning, settings_routes, tenants

router = Router()
router.add("POST", "/", tenants.create, action="tenants.create")
router.add("GET", "/", tenants.list_tenants, action="tenants.list")
router.add("GET", "/settings", settings_routes.read, action="settings.read")
router.add("PATCH", "/settings", settings_routes.update, action="settings.update")
router.add("GET", "/{tenant_id}", tenants.read, action="tenants.read")
router.add("PATCH", "/{tenant_id}", tenants.update, action="tenants.update")
router.add("POST", "/{tenant_id}/suspend", tenants.suspend, action="tenants.suspend")
router.add("POST", "/{tenant_id}/reactivate", tenants.reactivate, action="tenants.reactivate")
router.add("POST", "/{tenant_id}/provision", provisioning.retry, action="tenants.provision")

main = serve(router, before=[authenticate])
