"""provisioning: make a recorded tenant usable, asynchronously (docs/tenants.md).

``POST /{tenant_id}``, executed asynchronously by the ``tenants`` function with its key (``execute: []``:
no user may call it). The work is ``bigtech.tenant_provisioning``.
"""

from bigtech.http import Router, serve

from . import run

router = Router()
router.add("POST", "/{tenant_id}", run.provision, action=run.ACTION)

main = serve(router)
