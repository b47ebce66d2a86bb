"""consultas: run a paid look-up and read the history (docs/credits-consultas-plugins.md#a-consulta-post-consultas).

Table of contents; the flow is ``service.run_consulta`` (price → reserve → plugin → settle or release,
one transaction), ``create.py`` its HTTP adapter, ``deferred.py``/``worker.py`` the async consulta (202, then
an async execution of ``/internal/run``), the history in ``history.py``.
"""

from bigtech.http import Router, serve
from bigtech.http.route_doc import RouteDoc
from bigtech.identity import authenticate

from . import create, history, worker

router = Router()
router.add("POST", "/", create.create, action="consultas.create",
           doc=RouteDoc(summary="Run a paid consulta (charged once per idempotency-key; 202 pending when async)",
                        status=201,
                        example={"category": "cadastral", "document": "11144477735", "purpose": "Análise de crédito",
                                 "legal_basis": "protecao_credito"}))
router.add("POST", "/internal/run", worker.run, action="consultas.run")  # async consultas: CORE's token only
router.add("GET", "/", history.list_consultas, action="consultas.list")
router.add("GET", "/{consulta_id}", history.read, action="consultas.read")

main = serve(router, before=[authenticate])
