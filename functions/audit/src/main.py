"""audit: read, verify and export the hash-chained audit trail and its signed checkpoints (docs/audit.md#reading).

``/`` is the caller's tenant's trail (owners and admins); ``/platform`` the platform's (platform
admins); ``/public-key`` the checkpoints' verification key (any signed-in caller). Handlers live in
``trail.py``.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import trail

router = Router()
router.add("GET", "/", trail.list_entries, action="audit.list")
router.add("GET", "/verify", trail.verify, action="audit.verify")
router.add("GET", "/export", trail.export, action="audit.export")
router.add("GET", "/checkpoints/export", trail.export_checkpoints, action="audit.export")
router.add("GET", "/public-key", trail.public_key, action="audit_key.read")
router.add("GET", "/platform", trail.list_platform, action="platform_audit.list")
router.add("GET", "/platform/verify", trail.verify_platform, action="platform_audit.verify")
router.add("GET", "/platform/export", trail.export_platform, action="platform_audit.export")
router.add("GET", "/platform/checkpoints/export", trail.export_platform_checkpoints, action="platform_audit.export")

main = serve(router, before=[authenticate])
