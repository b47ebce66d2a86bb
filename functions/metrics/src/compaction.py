"""``POST /`` on the hourly schedule: fold minute buckets older than an hour into each series' total
(``bigtech.metrics.compact``), so scrapes read a small table and the counters never move backwards.
Key-only: an execution carrying a user is refused (``core_only``)."""

from __future__ import annotations

import time
from typing import Any

from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access, metrics
from bigtech.errors import Forbidden
from bigtech.http import Request

COMPACT_ACTION = "metrics.compact"
BUDGET_SECONDS = 20.0  # the function's timeout is 30 s; what is left waits for the next hour


def run(request: Request) -> Any:
    if request.user_id:
        raise Forbidden("Compaction runs on the metrics schedule only.", code="core_only")
    tables = TablesDB(appwrite_access.key_client(request))
    folded = metrics.compact(tables, deadline=time.monotonic() + BUDGET_SECONDS)
    request.log.log(f"metrics compaction: {folded} minute buckets folded")
    return {"folded": folded}
