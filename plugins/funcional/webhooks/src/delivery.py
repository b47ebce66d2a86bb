"""One delivery attempt: claim it, sign, POST through the outbound guard, log it, plan the next one.

**Never twice.** An attempt is claimed before anything is sent: one TablesDB transaction increments the
delivery's ``attempt`` bounded by ``max = <value read> + 1`` (a compare-and-set: Appwrite refuses it when
another worker claimed since) and takes a lease (``claimed_until``). Only the winner sends; the
attempt log row's id is derived from (delivery, attempt number) so even a retried write cannot log one
attempt twice. A worker that dies after the claim leaves a lease that expires; the delivery is then
claimed again as the *next* attempt (the receiver dedupes on ``webhook-id``, as the spec asks).

**Outcomes.** 2xx: succeeded (the endpoint's failing streak ends). 410 Gone: the endpoint is disabled
(audited, ``webhook.endpoint_disabled``). Anything else (other status, timeout, refused URL, network
error): the next step of the schedule, or ``failed`` when the schedule is over; an endpoint whose
failing streak reaches ``policy.disable_after_seconds()`` is disabled the same way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from appwrite.exception import AppwriteException

from bigtech import metrics, outbound, uow
from bigtech.audit.writer import AuditTrail
from bigtech.audited import Actor, Event, commit_change
from bigtech.secrets_box import SecretsCorrupted

from . import policy, signing
from .store import ATTEMPTS, DELIVERIES, ENDPOINTS, Endpoint, Store, attempt_id, iso, parse_time

RESPONSE_KEEP = 1000  # characters of the answer kept in the log
LEASE_MARGIN = 30  # seconds beyond the request timeout a claim holds
SYSTEM_ACTOR = Actor("funcional-webhooks", "system")


@dataclass(frozen=True)
class Outcome:
    delivery_id: str
    attempt: int
    status: str  # succeeded | pending | failed
    status_code: int | None
    latency_ms: int
    error: str | None
    endpoint_disabled: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "attempt": self.attempt, "status": self.status,
                "status_code": self.status_code, "latency_ms": self.latency_ms, "error": self.error,
                "endpoint_disabled": self.endpoint_disabled}


def claim(store: Store, row: Any, now: datetime, timeout: float) -> int | None:
    """The attempt number this worker won, or ``None`` (claimed elsewhere, leased, or not pending)."""
    data = row.data
    if data.get("status") != "pending":
        return None
    leased = parse_time(data.get("claimed_until"))
    if leased is not None and leased > now:
        return None
    current = int(data.get("attempt") or 0)
    unit = uow.UnitOfWork()
    unit.increment(store.database_id, DELIVERIES, row.id, "attempt", 1, max=current + 1)
    unit.update(store.database_id, DELIVERIES, row.id,
                {"claimed_until": iso(now + timedelta(seconds=timeout + LEASE_MARGIN))})
    try:
        uow.commit(store.tables, unit.operations)
    except AppwriteException:
        return None  # another worker's claim moved the counter first
    return current + 1


def secrets_for(store: Store, endpoint: Endpoint, now: datetime) -> list[str]:
    current = signing.unseal(endpoint.sealed_secret, store.tenant_id, endpoint.id)
    in_use = [current] if current else []
    if endpoint.sealed_previous and endpoint.previous_until and endpoint.previous_until > now:
        previous = signing.unseal(endpoint.sealed_previous, store.tenant_id, endpoint.id)
        if previous:
            in_use.append(previous)
    return in_use


def send(url: str, body: str, headers: dict[str, str], timeout: float,
         transport: httpx.BaseTransport | None = None) -> tuple[int | None, str, str | None, int]:
    """(status code, truncated answer, error, latency ms); never raises for the endpoint's failures."""
    started = time.monotonic()
    try:
        with outbound.guarded_client(outbound.OutboundPolicy.from_env(), timeout=timeout,
                                     transport=transport) as client:
            response = client.post(url, content=body.encode(), headers=headers)
            text = response.text[:RESPONSE_KEEP]
            return response.status_code, text, None, _ms(started)
    except outbound.OutboundRefused as refused:
        return None, "", f"outbound_refused: {refused.reason}", _ms(started)
    except httpx.TimeoutException:
        return None, "", "timeout", _ms(started)
    except httpx.HTTPError as error:
        return None, "", f"network_error: {type(error).__name__}", _ms(started)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def attempt(store: Store, row: Any, endpoint: Endpoint | None, message: Any | None, *, timeout: float,
            trigger: str, now: datetime | None = None) -> Outcome | None:
    """Run one attempt of ``row`` (a ``webhook_deliveries`` row) if this worker wins its claim."""
    now = now or datetime.now(UTC)
    if endpoint is None or not endpoint.enabled or message is None:
        reason = "endpoint_deleted" if endpoint is None else "endpoint_disabled" if message else "message_missing"
        store.update_delivery(row.id, {"status": "failed", "error": reason, "next_at": None})
        return None
    number = claim(store, row, now, timeout)
    if number is None:
        return None
    body = message.data.get("payload") or "{}"
    try:
        secrets_in_use = secrets_for(store, endpoint, now)
    except SecretsCorrupted:
        secrets_in_use = []
    code: int | None
    error: str | None
    if not secrets_in_use:
        code, text, error, latency = None, "", "secret_unreadable", 0
    else:
        code, text, error, latency = send(endpoint.url, body, signing.headers(message.id, body, secrets_in_use, now),
                                          timeout)
    return record(store, row, endpoint, number, code, text, error, latency, trigger, now)


def record(store: Store, row: Any, endpoint: Endpoint, number: int, code: int | None, text: str,
           error: str | None, latency: int, trigger: str, now: datetime) -> Outcome:
    done = datetime.now(UTC)
    step = int(row.data.get("step") or 0)
    ok = code is not None and 200 <= code < 300
    delivery: dict[str, Any] = {"status_code": code, "error": (error or (None if ok else f"http_{code}"))[:1000]
                                if not ok else None, "claimed_until": None, "last_attempt_at": iso(done)}
    disable: str | None = None
    endpoint_change: dict[str, Any] = {}
    if ok:
        delivery.update(status="succeeded", next_at=None)
        if endpoint.failing_since is not None:
            endpoint_change["failing_since"] = None
    else:
        delay = policy.delay_before(step + 1)
        if code == 410:
            disable = "gone"
            delivery.update(status="failed", next_at=None)
        elif delay is None:
            delivery.update(status="failed", next_at=None)
        else:
            delivery.update(status="pending", step=step + 1, next_at=iso(done + timedelta(seconds=delay)))
        since = endpoint.failing_since or now
        if endpoint.failing_since is None:
            endpoint_change["failing_since"] = iso(now)
        if disable is None and (done - since).total_seconds() >= policy.disable_after_seconds():
            disable = "failing"
    log = {"delivery_id": row.id, "endpoint_id": endpoint.id, "event_id": row.data.get("event_id"),
           "attempt": number, "status_code": code, "latency_ms": latency, "response": text[:RESPONSE_KEEP],
           "error": (delivery.get("error") or None) and str(delivery["error"])[:512], "attempted_at": iso(now),
           "trigger": trigger}

    def stage(unit: uow.UnitOfWork) -> None:
        unit.create(store.database_id, ATTEMPTS, attempt_id(row.id, number), log)
        unit.update(store.database_id, DELIVERIES, row.id, delivery)
        change = dict(endpoint_change)
        if disable:
            change.update(enabled=False, disabled_reason=disable)
        if change:
            unit.update(store.database_id, ENDPOINTS, endpoint.id, change)

    if disable:
        commit_change(store.tables, AuditTrail.tenant(store.database_id), SYSTEM_ACTOR,
                      action="webhooks.endpoint_disabled", resource=("webhook_endpoint", endpoint.id),
                      details={"reason": disable, "status_code": code, "url_host": _host(endpoint.url)},
                      stage=stage, events=[Event("webhook.endpoint_disabled", store.tenant_id,
                                                 {"endpoint_id": endpoint.id, "reason": disable})])
    else:
        uow.run(store.tables, stage)
    count(store, delivery["status"])
    return Outcome(row.id, number, delivery["status"], code, latency, log["error"], disable)


WEBHOOK_DELIVERIES = "bigtech_webhook_deliveries_total"


def count(store: Store, outcome: str) -> None:
    """``bigtech_webhook_deliveries_total{outcome=succeeded|pending|failed}`` (pending: failed, will retry) for
    the metrics function: one increment per attempt, best effort (the attempt is already recorded)."""
    try:
        metrics.record(store.tables, WEBHOOK_DELIVERIES, {"outcome": outcome})
    except AppwriteException:
        return


def _host(url: str) -> str:
    try:
        return httpx.URL(url).host
    except (httpx.InvalidURL, ValueError):
        return ""
