"""``GET /``: the Prometheus text format, for callers that send ``x-metrics-token``.

Appwrite's executor owns ``Authorization``, so the token travels in ``x-metrics-token`` and is compared
in constant time with ``BIGTECH_METRICS_TOKEN`` (a project variable). Without that variable the route
answers 403 ``metrics_disabled``: metrics are never public by accident.
"""

from __future__ import annotations

import hmac
import os

from appwrite.services.tables_db import TablesDB
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from bigtech import appwrite_access
from bigtech.errors import Forbidden, Unauthorized
from bigtech.http import Request, Response, text_response

from .collect import Collector

READ_ACTION = "metrics.read"
TOKEN_HEADER = "x-metrics-token"


def check_token(request: Request) -> None:
    expected = os.environ.get("BIGTECH_METRICS_TOKEN", "")
    if not expected:
        raise Forbidden("Metrics are disabled: BIGTECH_METRICS_TOKEN is not set.", code="metrics_disabled")
    sent = request.header(TOKEN_HEADER) or ""
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Unauthorized("Send the metrics token in x-metrics-token.", code="invalid_metrics_token")


def read(request: Request) -> Response:
    check_token(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector(TablesDB(appwrite_access.key_client(request))))
    return text_response(generate_latest(registry).decode("utf-8"), 200, CONTENT_TYPE_LATEST)
