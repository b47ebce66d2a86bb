"""Async consultas: ``POST /v1/consultas`` with ``callback_url`` → 202, the consulta runs in an async
execution of this function, and its outcome is POSTed to the callback, signed per Standard Webhooks.

1. ``accept``: the URL must pass the outbound guard (``bigtech.outbound.check_url``: https, a public
   address — 422 ``invalid_callback_url`` otherwise, nothing run, nothing charged); the request gets an id
   (``r…``) and an idempotency key (the client's, else ``async:<id>``); an async execution of
   ``POST /internal/async`` (CORE's token: nobody else may start one) carries the job. Answer 202
   ``{"request": {"id", "status": "pending", "idempotency_key"}}``.
2. ``run_job``: the key is loaded again (revoked or expired since → the callback says so, nothing
   charged), the consulta runs through the same seam with the job's idempotency key, and the result —
   the consulta, or the error envelope — is delivered.
3. ``deliver``: ``webhook-id`` (the request id: receivers dedupe on it), ``webhook-timestamp``,
   ``webhook-signature`` (``v1,<HMAC-SHA256>`` under the key's webhook secret, ``standardwebhooks``); a
   2xx ends it; a 5xx, 408, 429 or network error is retried after 1, 2, 4, 8 s (5 attempts); any other
   4xx is final. Each attempt goes through ``guarded_client`` (pinned to the checked address, no
   redirects). The outcome is logged.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import httpx
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.functions import Functions
from pydantic import BaseModel, ConfigDict, Field
from standardwebhooks.webhooks import Webhook

from bigtech import appwrite_access, idempotency
from bigtech.errors import BigtechError, Unprocessable
from bigtech.http import Request
from bigtech.http.responses import Response, json_response
from bigtech.log import FunctionLogger
from bigtech.outbound import OutboundPolicy, OutboundRefused, check_url, guarded_client
from bigtech.plugins import core_calls

from . import consulta_seam, keys
from .gate import check_key
from .keys import ApiKey
from .plugin import PLUGIN_ID

JOB_PATH = "/internal/async"
RETRY_DELAYS = (1, 2, 4, 8)  # seconds before attempts 2..5
RETRY_STATUSES = frozenset({408, 429})
TIMEOUT = 10.0


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=r"^r[a-zA-Z0-9]{1,35}$")
    key_id: str = Field(max_length=36)
    callback_url: str = Field(max_length=2048)
    idempotency_key: str = Field(max_length=160)
    body: dict[str, Any]


def checked_callback(url: Any) -> str:
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise Unprocessable.field("callback_url", "must be an https URL of at most 2048 characters")
    try:
        check_url(url, OutboundPolicy.from_env())
    except OutboundRefused as refused:
        raise Unprocessable("The callback URL is not allowed.", code="invalid_callback_url",
                            details=[{"field": "callback_url", "message": str(refused)}]) from None
    return url


def accept(request: Request, key: ApiKey, body: dict[str, Any]) -> Response:
    url = checked_callback(body.pop("callback_url"))
    request_id = "r" + ID.unique()
    job = Job(request_id=request_id, key_id=key.id, callback_url=url, body=body,
              idempotency_key=idempotency.read_key(request) or f"async:{request_id}")
    payload = job.model_dump_json()
    Functions(appwrite_access.key_client(request)).create_execution(
        PLUGIN_ID, body=payload, xasync=True, path=JOB_PATH, method=ExecutionMethod.POST,
        headers=core_calls.headers(PLUGIN_ID, "POST", JOB_PATH, payload))
    return json_response({"request": {"id": request_id, "status": "pending", "idempotency_key": job.idempotency_key}},
                         202)


def _flow_request(request: Request, job: Job) -> Request:
    """The request the flow sees: the consulta body and the job's idempotency key, on this execution."""
    inner = SimpleNamespace(method="POST", path="/v1/consultas", query_string="",
                            headers={"content-type": "application/json", "idempotency-key": job.idempotency_key,
                                     "x-appwrite-client-ip": request.header("x-appwrite-client-ip") or "",
                                     "x-appwrite-key": request.header("x-appwrite-key") or "",
                                     "x-appwrite-execution-id": request.header("x-appwrite-execution-id") or ""},
                            body_binary=json.dumps(job.body).encode("utf-8"), body=json.dumps(job.body))
    outer = request.context
    context = SimpleNamespace(req=inner, res=getattr(outer, "res", None), log=getattr(outer, "log", print),
                              error=getattr(outer, "error", print))
    return Request(context)


def run_job(request: Request) -> Any:
    job = request.model(Job)
    log = FunctionLogger(request.context)
    tables = appwrite_access.tables(request)
    outcome: dict[str, Any]
    try:
        key = ApiKey.from_row(keys.load(tables, job.key_id))
        check_key(key, None, None)
        answer = consulta_seam.run_consulta(_flow_request(request, job), key, tables)
        outcome = {"type": "consulta.completed", "data": {"request_id": job.request_id, **answer.body}}
    except BigtechError as error:
        outcome = {"type": "consulta.refused", "data": {"request_id": job.request_id, **error.to_body()}}
        key = None
    except AppwriteException as error:
        log.exception(f"async {job.request_id}: the consulta could not run", error)
        outcome = {"type": "consulta.refused", "data": {"request_id": job.request_id, "error": {
            "code": "unavailable", "message": "The consulta could not run; try again.", "details": []}}}
        key = None
    if key is None:  # refused before the flow (revoked key…): still tell the caller, signed if possible
        try:
            key = ApiKey.from_row(keys.load(tables, job.key_id))
        except AppwriteException:
            log.error(f"async {job.request_id}: key {job.key_id} is gone; no callback")
            return {"delivered": False}
    secret = keys.open_webhook_secret(key.id, key.webhook_secret_sealed)
    if secret is None:
        log.error(f"async {job.request_id}: key {key.id} has no webhook secret; no callback")
        return {"delivered": False}
    delivered, attempts = deliver(job.callback_url, job.request_id, outcome, secret, log)
    return {"delivered": delivered, "attempts": attempts}


def deliver(url: str, message_id: str, outcome: dict[str, Any], secret: str, log: Any,
            sleep: Any = time.sleep) -> tuple[bool, int]:
    payload = json.dumps({**outcome, "timestamp": datetime.now(UTC).isoformat()}, separators=(",", ":"),
                         ensure_ascii=False)
    signer = Webhook(secret)
    for attempt in range(1, len(RETRY_DELAYS) + 2):
        now = datetime.now(UTC)
        headers = {"content-type": "application/json", "webhook-id": message_id,
                   "webhook-timestamp": str(int(now.timestamp())),
                   "webhook-signature": signer.sign(message_id, now, payload)}
        status: int | None = None
        try:
            with guarded_client(OutboundPolicy.from_env(), timeout=TIMEOUT) as client:
                status = client.post(url, content=payload.encode("utf-8"), headers=headers).status_code
        except (OutboundRefused, httpx.HTTPError) as error:
            log.log(f"callback {message_id} attempt {attempt}: {type(error).__name__}")
        if status is not None:
            log.log(f"callback {message_id} attempt {attempt}: HTTP {status}")
            if 200 <= status < 300:
                return True, attempt
            if status < 500 and status not in RETRY_STATUSES:
                return False, attempt
        if attempt <= len(RETRY_DELAYS):
            sleep(RETRY_DELAYS[attempt - 1])
    return False, len(RETRY_DELAYS) + 1
