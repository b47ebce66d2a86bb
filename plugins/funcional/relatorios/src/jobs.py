"""Usage reports too big for one execution: a job run in chunks by asynchronous executions.

``POST /jobs/usage`` stores the job (``report_jobs``) and starts an asynchronous execution of this very
function (``POST /jobs/run``, with the execution's key, no user: never a synchronous self-call). Each run
claims one chunk (a bounded increment of ``runs``: two runs never work on one job at once), reads pages
for ``CHUNK_SECONDS``, saves the partial aggregation and the cursor, and starts the next run until the
scans are done; ``GET /jobs/{id}`` answers the status and, when done, the report. Every execution stays
far inside the function's 30 s timeout whatever the volume.

Two scans: the consultas of the period (count, charged, credits per group) and, for owners/admins, the
consultas' audit records (provider cost per group; the group is read from the record itself: actor,
category, status, plugin and time).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.functions import Functions

from bigtech import platform_settings, uow
from bigtech.appwrite_access import key_client
from bigtech.appwrite_access import tables as tables_of
from bigtech.errors import BadRequest, NotFound, Unprocessable
from bigtech.http import Request, Response
from bigtech.schema.tenant import tenant_database_id

from . import period, usage
from .access import PLUGIN_ID, background_target, viewer
from .readers import CONSULTA_COLUMNS, Reader

TABLE = "report_jobs"
CHUNK_SECONDS = 20.0
CHUNK_VARIABLE = "BIGTECH_REPORT_CHUNK_SECONDS"  # shorter chunks (tests: 0 = one page per run)
RUN_ACTION = "report_jobs.run"


def _group_by(raw: Any) -> str:
    if raw not in usage.GROUPS:
        raise Unprocessable.field("group_by", f"one of {', '.join(usage.GROUPS)}")
    return raw


def create(request: Request) -> Any:
    who = viewer(request)
    body = request.json() if request.body else {}
    if not isinstance(body, dict):
        raise BadRequest("A JSON object is expected.", code="invalid_body")
    query = {k: str(v) for k, v in body.items() if k in ("from", "to") and isinstance(v, str)}
    span = period.from_query(query)
    params = {"from": span.first_day.isoformat(), "to": span.last_day.isoformat(),
              "group_by": _group_by(body.get("group_by", "day")), "member": who.member, "with_costs": who.manager,
              "credit_value_cents": platform_settings.load(who.tables)[0].credit_value_cents}
    job_id = ID.unique()
    state = {"phase": "consultas", "cursor": None, "buckets": {}, "costs": {}}
    who.tables.create_row(who.reader.database_id, TABLE, job_id, {
        "kind": "usage", "created_by": who.user_id, "status": "queued", "params": json.dumps(params),
        "state": json.dumps(state), "runs": 0, "appwrite_calls": 0})
    start_run(request, who.tenant_id, job_id)
    return Response(202, {"job": {"id": job_id, "status": "queued", "params": params}})


def start_run(request: Request, tenant_id: str, job_id: str) -> None:
    Functions(key_client(request)).create_execution(
        PLUGIN_ID, body=json.dumps({"tenant_id": tenant_id, "job_id": job_id}), xasync=True, path="/jobs/run",
        method=ExecutionMethod.POST, headers={"content-type": "application/json"})


def read(request: Request, job_id: str) -> Any:
    who = viewer(request)
    try:
        row = who.tables.get_row(who.reader.database_id, TABLE, job_id) if len(job_id) <= 36 else None
    except AppwriteException:
        row = None
    if row is None or not who.may_see(row.data.get("created_by")):
        raise NotFound("Report job not found.", code="job_not_found")
    data = row.data
    job: dict[str, Any] = {"id": row.id, "kind": data.get("kind"), "status": data.get("status"),
                           "params": json.loads(data.get("params") or "{}"), "runs": data.get("runs"),
                           "appwrite_calls": data.get("appwrite_calls"), "error": data.get("error")}
    if data.get("status") == "done":
        job["result"] = json.loads(data.get("result") or "null")
    return {"job": job}


def chunk_seconds() -> float:
    try:
        return min(float(os.environ.get(CHUNK_VARIABLE) or CHUNK_SECONDS), CHUNK_SECONDS)
    except ValueError:
        return CHUNK_SECONDS


def run(request: Request) -> Any:
    """One chunk of a job (the job's own asynchronous execution: a key, no user)."""
    tenant_id, job_id = background_target(request, "job_id", "Report jobs")
    tables = tables_of(request)
    database_id = tenant_database_id(tenant_id)
    try:
        row = tables.get_row(database_id, TABLE, job_id)
    except AppwriteException:
        raise NotFound("Report job not found.", code="job_not_found") from None
    if row.data.get("status") in ("done", "failed"):
        return {"status": row.data.get("status")}
    runs = int(row.data.get("runs") or 0)
    claim = uow.UnitOfWork()
    claim.increment(database_id, TABLE, job_id, "runs", 1, max=runs + 1)
    try:
        uow.commit(tables, claim.operations)
    except AppwriteException:
        return {"status": "running", "claimed": False}  # another run has this chunk
    reader = Reader(tables, database_id)
    params = json.loads(row.data.get("params") or "{}")
    state = json.loads(row.data.get("state") or "{}")
    try:
        finished = advance(reader, params, state, time.monotonic() + chunk_seconds())
    except Exception as error:
        tables.update_row(database_id, TABLE, job_id, {"status": "failed", "error": f"{type(error).__name__}"[:1000]})
        raise
    calls = int(row.data.get("appwrite_calls") or 0) + reader.calls
    if finished:
        tables.update_row(database_id, TABLE, job_id, {"status": "done", "state": None, "appwrite_calls": calls,
                                                       "result": json.dumps(result(params, state))})
        return {"status": "done"}
    tables.update_row(database_id, TABLE, job_id, {"status": "running", "state": json.dumps(state),
                                                   "appwrite_calls": calls})
    start_run(request, tenant_id, job_id)
    return {"status": "running"}


def advance(reader: Reader, params: dict[str, Any], state: dict[str, Any], deadline: float) -> bool:
    span = period.from_query({"from": params["from"], "to": params["to"]})
    member, group_by = params.get("member"), params["group_by"]
    if state["phase"] == "consultas":
        queries = [Query.greater_than_equal("$createdAt", period.iso(span.start)),
                   Query.less_than("$createdAt", period.iso(span.end))]
        if member:
            queries.append(Query.equal("user_id", [member]))
        for page in reader.pages("consultas", queries, CONSULTA_COLUMNS, cursor=state["cursor"]):
            for row in page:
                bucket = state["buckets"].setdefault(usage.group_key(row, group_by), [0, 0, 0])
                credits = int(row.data.get("cost") or 0)
                bucket[0], bucket[1], bucket[2] = bucket[0] + 1, bucket[1] + (credits > 0), bucket[2] + credits
            state["cursor"] = page[-1].id
            if time.monotonic() > deadline:
                return False
        state["phase"], state["cursor"] = ("costs" if params.get("with_costs") else "done"), None
    if state["phase"] == "costs":
        queries = [Query.equal("action", ["consultas.create"]),
                   Query.greater_than_equal("occurred_at", period.iso(span.start)),
                   Query.less_than("occurred_at", period.iso(span.end))]
        if member:
            queries.append(Query.equal("actor", [member]))
        for page in reader.pages("audit", queries, ["$id", "$createdAt", "actor", "occurred_at", "details"],
                                 cursor=state["cursor"]):
            for row in page:
                key, cost = audit_group(row, group_by)
                state["costs"][key] = str(Decimal(state["costs"].get(key, "0")) + cost)
            state["cursor"] = page[-1].id
            if time.monotonic() > deadline:
                return False
        state["phase"] = "done"
    return True


def audit_group(row: Any, group_by: str) -> tuple[str, Decimal]:
    try:
        details = json.loads(row.data.get("details") or "{}")
        cost = Decimal(str(details.get("provider_cost") or "0"))
    except (ValueError, ArithmeticError):
        return "", Decimal(0)
    data = row.data
    if group_by in ("day", "week", "month"):
        when = datetime.fromisoformat(str(data.get("occurred_at")).replace("Z", "+00:00")).astimezone(UTC)
        key = when.date().isoformat() if group_by == "day" else \
            (when.date() - timedelta(days=when.weekday())).isoformat() if group_by == "week" else when.strftime("%Y-%m")
    elif group_by == "channel":
        key = usage.channel_of(None, data.get("actor"))
    else:
        key = str({"member": data.get("actor"), "product": details.get("plugin_id")}.get(group_by)
                  if group_by in ("member", "product") else details.get(group_by) or "")
    return key, cost


def result(params: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    value = int(params["credit_value_cents"])
    with_costs = bool(params.get("with_costs"))
    buckets, total = [], usage.Bucket("total")
    for key in sorted(set(state["buckets"]) | set(state["costs"])):
        count, charged, credits = state["buckets"].get(key, [0, 0, 0])
        bucket = usage.Bucket(key, count, charged, credits, Decimal(state["costs"].get(key, "0")))
        buckets.append(bucket)
        total.count += count
        total.charged += charged
        total.credits += credits
        total.provider_cost += bucket.provider_cost
    return {"period": {"from": params["from"], "to": params["to"]}, "group_by": params["group_by"],
            "member": params.get("member"), "credit_value_cents": value,
            "items": [b.to_json(value, with_costs) for b in buckets], "totals": total.to_json(value, with_costs)}
