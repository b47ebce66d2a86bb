"""health: is Bigtech deployed and able to run a function? Used by monitors and the README's first curl.

Answers ``GET /`` with the library version actually vendored into this deployment and the server
time, so a stale deployment or a skewed clock shows up at a glance.
"""

from datetime import UTC, datetime

import bigtech
from bigtech.http import Request, Router, serve

router = Router()


@router.route("GET", "/", action="health.read")
def read(request: Request) -> dict[str, str]:
    return {"status": "ok", "version": bigtech.__version__, "time": datetime.now(UTC).isoformat()}


main = serve(router)
