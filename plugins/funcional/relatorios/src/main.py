"""funcional-relatorios: usage and billing reports, CSV exports and PDF documents (docs/funcional.md).

Table of contents: the plugin routes (CORE only) and the members' report routes (``bigtech.identity``).
"""

from typing import Any

from bigtech.http import Request, serve
from bigtech.identity import authenticate
from bigtech.plugins import build_router
from bigtech.plugins.service import core_only

from . import documents, jobs, routes
from .relatorios import RelatoriosPlugin

plugin = RelatoriosPlugin()
router = build_router(plugin)
router.add("GET", "/usage", routes.usage_report, action="reports.read")
router.add("GET", "/statement", routes.statement_report, action="reports.read")
router.add("GET", "/exports/{file}", routes.export, action="reports.export")
router.add("GET", "/receipts/consultas/{file}", routes.consulta_receipt, action="reports.read")
router.add("GET", "/receipts/orders/{file}", routes.order_receipt, action="reports.read")
router.add("GET", "/statements/{file}", routes.statement_pdf, action="reports.read")
router.add("POST", "/jobs/usage", jobs.create, action="report_jobs.create")
router.add("GET", "/jobs/{job_id}", jobs.read, action="report_jobs.read")
router.add("POST", "/jobs/run", jobs.run, action=jobs.RUN_ACTION)
router.add("GET", "/documents/{document_id}", documents.read, action="documents.read")
router.add("POST", "/documents/run", documents.run, action=documents.RUN_ACTION)

_core = core_only(plugin.id)


def gate(request: Request, route: Any) -> None:
    """Plugin routes need CORE's token; report routes resolve the signed-in member."""
    if route.action.startswith("plugin."):
        _core(request, route)
    elif route.action not in (jobs.RUN_ACTION, documents.RUN_ACTION):  # own runs check their caller themselves
        authenticate(request, route)


main = serve(router, before=[gate])
main.plugin = plugin  # type: ignore[attr-defined]
