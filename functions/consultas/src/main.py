"""consultas: run a paid look-up and read the history (docs/credits-consultas-plugins.md#a-consulta-post-consultas).

Table of contents; the flow is ``service.run_consulta`` (price → reserve → plugin → settle or release,
one transaction), ``create.py`` its HTTP adapter, the history in ``history.py``.
"""

from bigtech.http import Router, serve
from bigtech.identity import authenticate

from . import create, history

router = Router()
router.add("POST", "/", create.create, action="consultas.create")
router.add("GET", "/", history.list_consultas, action="consultas.list")
router.add("GET", "/{consulta_id}", history.read, action="consultas.read")

main = serve(router, before=[authenticate])
