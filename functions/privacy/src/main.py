"""privacy: LGPD data-subject reports (art. 18–19) — docs/operations.md.

Table of contents: one route; the caller is resolved inside the handler because the body's ``scope``
decides which permission applies (tenant managers, or platform admins for ``scope: "platform"``).
"""

from bigtech.http import Router, serve

from . import report

router = Router()
router.add("POST", "/subject-report", report.create, action=report.TENANT_ACTION)

main = serve(router)
