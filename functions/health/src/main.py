"""health: is Bigtech deployed and able to run a function? Used by monitors and the README's first curl.

Answers ``GET /`` with the library version actually vendored into this deployment and the server
time, so a stale deployment or a skewed clock shows up at a glance. ``GET /errors`` is the error-code
catalogue (``bigtech.error_codes``, docs/errors.md): health is executable by anyone, so a UI can load the
pt-BR messages before anyone signs in.
"""

from datetime import UTC, datetime

import bigtech
from bigtech import error_codes
from bigtech.http import Request, Router, serve
from bigtech.http.route_doc import RouteDoc

router = Router()


HEALTH = {"type": "object", "required": ["status", "version", "time"],
          "properties": {"status": {"type": "string", "enum": ["ok"]}, "version": {"type": "string"},
                         "time": {"type": "string", "format": "date-time"}}}
CATALOGUE = {"type": "object", "required": ["items"], "properties": {
    "items": {"type": "array", "items": {"type": "object", "required": ["code", "status", "meaning", "message_pt"],
                                         "properties": {"code": {"type": "string"}, "status": {"type": "integer"},
                                                        "statuses": {"type": "array", "items": {"type": "integer"}},
                                                        "meaning": {"type": "string"},
                                                        "message_pt": {"type": "string"}}}},
    "next_cursor": {"type": ["string", "null"]}}}


@router.route("GET", "/", action="health.read", doc=RouteDoc(summary="Is Bigtech up", response=HEALTH))
def read(request: Request) -> dict[str, str]:
    return {"status": "ok", "version": bigtech.__version__, "time": datetime.now(UTC).isoformat()}


@router.route("GET", "/errors", action="errors.read",
              doc=RouteDoc(summary="The error-code catalogue (code, status, meaning, pt-BR message)",
                           response=CATALOGUE))
def errors(request: Request) -> dict[str, object]:
    return {"items": error_codes.catalogue_json(), "next_cursor": None}


main = serve(router)
