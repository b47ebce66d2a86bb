"""mercado-atacado: the wholesale market — API keys and the public API (docs/mercado.md).

Table of contents: the plugin protocol (CORE only, ``plugin.py``), key management for owners/admins
(``manage.py``), the public API for API keys (``public.py``, through ``consulta_seam``); who may call
what is decided in ``gate.py``.
"""

from bigtech.http import serve
from bigtech.plugins import build_router

from . import callbacks, manage, public
from .gate import before
from .plugin import PLUGIN

router = build_router(PLUGIN)
router.add("POST", "/keys", manage.create_key, action="apikeys.create")
router.add("GET", "/keys", manage.list_keys, action="apikeys.list")
router.add("PATCH", "/keys/{key_id}", manage.update_key, action="apikeys.update")
router.add("POST", "/keys/{key_id}/rotate", manage.rotate_key, action="apikeys.rotate")
router.add("DELETE", "/keys/{key_id}", manage.revoke_key, action="apikeys.revoke")
router.add("POST", "/v1/consultas", public.create_consulta, action="public_api.consultas_create")
router.add("GET", "/v1/consultas", public.list_consultas, action="public_api.consultas_list")
router.add("GET", "/v1/consultas/{consulta_id}", public.read_consulta, action="public_api.consultas_read")
router.add("GET", "/v1/balance", public.balance, action="public_api.balance_read")
router.add("GET", "/v1/usage", public.usage, action="public_api.usage_read")
router.add("POST", callbacks.JOB_PATH, callbacks.run_job, action="plugin.async")  # CORE's token: self only

main = serve(router, before=[before])
main.plugin = PLUGIN  # type: ignore[attr-defined]  # as serve(plugin) exposes it
