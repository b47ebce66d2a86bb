"""consultas: run a paid look-up and read the history (DESIGN §4, §7).

Table of contents; the flow is ``service.run_consulta`` (price → reserve → plugin → settle or release,
one transaction), ``create.py`` its HTTP adapter, the history in ``history.py``.
"""

from bigtech.http import Router, serve
from bigtech.http.route_doc import RouteDoc
from bigtech.identity import authenticate

from . import create, history

router = Router()
router.add("POST", "/", create.create, action="consultas.create",
           doc=RouteDoc(summary="Run a paid consulta (charged once per idempotency-key)",
                        example={"category": "cadastral", "document": "11144477735", "purpose": "Análise de crédito",
                                 "legal_basis": "protecao_credito"}))
router.add("GET", "/", history.list_consultas, action="consultas.list")
router.add("GET", "/{consulta_id}", history.read, action="consultas.read")

main = serve(router, before=[authenticate])
