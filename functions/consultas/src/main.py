"""consultas: run a paid look-up and read the history (docs/credits-consultas-plugins.md#a-consulta-post-consultas).

Table of contents; the flow is ``service.run_consulta`` (price → reserve → plugin → settle or release,
one transaction), ``create.py`` its HTTP adapter, ``deferred.py``/``worker.py`` the async consulta (202, then
an async execution of ``/internal/run``), the history in ``history.py``.

Each handler is named, not imported (``lazy.handler``): a cold worker loads a route's module the first
time it serves that route, so ``POST /`` does not pay for the history or the worker, nor they for it.
"""

from bigtech.http import RouteDoc, Router, serve
from bigtech.identity import authenticate
from bigtech.lazy import handler

router = Router()
router.add("POST", "/", handler(".create:create", __package__), action="consultas.create",
           doc=RouteDoc(summary="Run a paid consulta (charged once per idempotency-key; 202 pending when async)",
                        status=201,
                        example={"category": "cadastral", "document": "11144477735", "purpose": "Análise de crédito",
                                 "legal_basis": "protecao_credito"}))
router.add("POST", "/internal/run", handler(".worker:run", __package__),  # async consultas: CORE's token only
           action="consultas.run")
router.add("GET", "/", handler(".history:list_consultas", __package__), action="consultas.list")
router.add("GET", "/{consulta_id}", handler(".history:read", __package__), action="consultas.read")

main = serve(router, before=[authenticate])
