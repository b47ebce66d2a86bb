"""The Infosimples fonte: one form-encoded POST per query, its code mapped, its billing recorded.

Request (reference §1.1): ``POST <base_url><service-path>`` with ``application/x-www-form-urlencoded``
fields ``token`` (no ``Authorization`` header), ``timeout`` (seconds Infosimples may wait for the
source) and the service's parameters. Our HTTP timeout is ``timeout + http_timeout_margin`` so
Infosimples answers 605 before we give up. Transport failures (timeout, connection refused, HTTP
5xx, a body that is not the envelope) are ``retryable`` and never billable.

The token and the document never reach a log line: documents are masked and the token is only in
the request body.

Code 622 ("the same query is being run repeatedly") is our integration's fault: it is answered as a
non-billable ``failed``/``duplicate_query`` with an alert (an error log line and
``detail.alert``), never retried, and the same (tenant, service, document) is then refused here
without calling Infosimples for ``duplicate_backoff_seconds`` (a per-worker throttle).
"""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bigtech import documents
from bigtech.log import FunctionLogger, mask_text
from bigtech.outbound import OutboundRefused
from bigtech.plugins import (
    FontePlugin,
    FonteQuery,
    Manifest,
    PluginContext,
    PluginError,
    PluginResult,
    SourceAttempt,
    Status,
)

from .codes import CODE_TABLE, map_response
from .normalize import NORMALIZERS, UnrecognisedShape

DEFAULT_BASE_URL = "https://api.infosimples.com/api/v2/consultas/"

SERVICES: dict[str, str] = {
    "cpf": "receita-federal/cpf",
    "cnpj": "receita-federal/cnpj",
    "cep": "correios/cep",
    "veiculo": "senatran/veiculo",
    "protestos": "ieptb/protestos",
    "cheques": "bcb/cheques-sem-fundo",
    "pgfn": "receita-federal/pgfn/devedores",  # the debtor list; receita-federal/pgfn is the CND certificate
}
DEFAULT_DUPLICATE_BACKOFF = 300


class DuplicateThrottle:
    """After a 622, the same query is held back for a while (per warm worker, keyed by tenant)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()
        self._clock = clock

    @staticmethod
    def key(tenant_id: str, service: str, query: FonteQuery) -> str:
        # The document only as a digest: this map must never hold personal data in clear.
        raw = "|".join([tenant_id, service, *(str(getattr(query, k) or "") for k in
                                              ("cpf", "cnpj", "cep", "placa", "renavam"))])
        return hashlib.sha256(raw.encode()).hexdigest()

    def blocked(self, key: str) -> bool:
        with self._lock:
            until = self._until.get(key)
            if until is not None and until <= self._clock():
                del self._until[key]
                return False
            return until is not None

    def hold(self, key: str, seconds: float) -> None:
        with self._lock:
            self._until[key] = self._clock() + seconds


def service_params(query: FonteQuery, config: dict[str, Any]) -> dict[str, str]:
    """The service's own form fields for ``query``."""
    if query.name == "cpf":
        params = {"cpf": query.cpf or ""}
        if query.birthdate:
            params["birthdate"] = query.birthdate
        return params
    if query.name == "cnpj":
        return {"cnpj": query.cnpj or "", "origem": str(config.get("cnpj_origem") or "web")}
    if query.name == "cep":
        return {"cep": query.cep or ""}
    if query.name == "veiculo":
        return {k: v for k, v in (("placa", query.placa), ("renavam", query.renavam)) if v}
    kind, number = query.document or ("cpf", "")
    return {kind: number}


class InfosimplesFonte(FontePlugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def __init__(self, manifest: Manifest | None = None, transport: httpx.BaseTransport | None = None,
                 throttle: DuplicateThrottle | None = None) -> None:
        super().__init__(manifest)
        self.transport = transport  # tests inject httpx.MockTransport; None = the network
        self.throttle = throttle or DuplicateThrottle()

    def answer(self, query: FonteQuery, ctx: PluginContext) -> PluginResult:
        config = ctx.config
        if query.name == "cpf" and not query.birthdate:
            # receita-federal/cpf requires the birthdate; calling without it would be a billable 606.
            return PluginResult.error(Status.FAILED, "missing_birthdate",
                                      "Infosimples' CPF service needs the birthdate.")
        service = {**SERVICES, **(config.get("services") or {})}[query.name]
        base_url = str(config.get("base_url") or DEFAULT_BASE_URL)
        url = base_url.rstrip("/") + "/" + service.strip("/")
        timeout = int(config.get("timeout") or 20)
        form = {
            "token": str(config.get("token") or ""),
            "timeout": str(timeout),
            **service_params(query, config),
        }
        if config.get("ignore_site_receipt"):
            form["ignore_site_receipt"] = "1"

        log = FunctionLogger(ctx.runtime) if ctx.runtime is not None else None
        throttle_key = self.throttle.key(ctx.tenant_id, service, query)
        if self.throttle.blocked(throttle_key):
            result = PluginResult.error(Status.FAILED, "duplicate_query_throttled",
                                        "This query was repeated too often (Infosimples 622); held back for now.",
                                        detail={"provider_code": 622, "retry": False})
            result.sources = [SourceAttempt(plugin=self.id, status=Status.FAILED, meta={"service": service})]
            return result
        started = time.monotonic()
        try:
            with self.http_client(timeout + int(config.get("http_timeout_margin") or 5)) as client:
                response = client.post(url, data=form, headers={"accept": "application/json"})
        except OutboundRefused as error:
            return self.refused(error)
        except httpx.TimeoutException:
            return self._transport_failure(service, "timeout", "Infosimples did not answer in time.", log, query)
        except httpx.HTTPError:
            return self._transport_failure(service, "provider_unavailable", "Infosimples could not be reached.",
                                           log, query)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        if response.status_code != 200:
            return self._transport_failure(service, "provider_unavailable",
                                           f"Infosimples answered HTTP {response.status_code}.", log, query)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict) or "code" not in payload:
            return self._transport_failure(service, "invalid_provider_response",
                                           "Infosimples answered something that is not its envelope.", log, query)
        result = self._result(query, service, payload, elapsed_ms, log)
        if result.errors and result.errors[0].code == "duplicate_query":
            backoff = float(config.get("duplicate_backoff_seconds") or DEFAULT_DUPLICATE_BACKOFF)
            self.throttle.hold(throttle_key, backoff)
            if log is not None:
                log.error(f"ALERT infosimples {service} code 622: the same query is being repeated "
                          f"(tenant {ctx.tenant_id}, {self._masked_key(query)}); throttled, not retried")
        return result

    # -- helpers ----------------------------------------------------------------------------------

    def _result(self, query: FonteQuery, service: str, payload: dict[str, Any], elapsed_ms: int,
                log: FunctionLogger | None) -> PluginResult:
        mapped = map_response(payload)
        header = payload.get("header") if isinstance(payload.get("header"), dict) else {}
        meta = {
            "service": service,
            "provider_code": mapped.provider_code,
            "price": str(mapped.price),
            "requested_at": header.get("requested_at"),
            "elapsed_time_in_milliseconds": header.get("elapsed_time_in_milliseconds", elapsed_ms),
            "site_receipts": [r for r in payload.get("site_receipts") or [] if isinstance(r, str)],
            "data_count": payload.get("data_count"),
        }
        if log is not None:
            log.log(f"infosimples {service} {self._masked_key(query)} → code {mapped.provider_code} "
                    f"{mapped.status.value} billable={mapped.billable} price={mapped.price} in {elapsed_ms} ms")
        data = None
        errors: list[PluginError] = []
        if mapped.status is Status.OK:
            try:
                data = NORMALIZERS[query.name](payload["data"][0], query)
            except UnrecognisedShape:
                # Infosimples may have charged (meta keeps its price), but an answer we cannot read is
                # not sold: a clear non-billable error, never an empty "nada consta".
                meta["provider_billable"] = mapped.billable
                return PluginResult(
                    status=Status.FAILED,
                    errors=[PluginError(code="unrecognised_response",
                                        message=f"Infosimples answered {service} in an unknown shape.",
                                        detail={"provider_code": mapped.provider_code})],
                    sources=[SourceAttempt(plugin=self.id, status=Status.FAILED, elapsed_ms=elapsed_ms, meta=meta)],
                )
        elif mapped.error_code:
            rule = CODE_TABLE.get(mapped.provider_code)
            detail: dict[str, Any] = {"provider_code": mapped.provider_code}
            if mapped.config_alert:
                detail["config_alert"] = True
            if mapped.provider_code == 622:
                detail.update({"alert": True, "retry": False})
            message = rule.meaning if rule else f"unknown Infosimples code {mapped.provider_code}"
            code_message = payload.get("code_message")
            if isinstance(code_message, str) and code_message:
                detail["code_message"] = mask_text(code_message)[:300]
            errors.append(PluginError(code=mapped.error_code, message=message, detail=detail))
        return PluginResult(
            status=mapped.status,
            data=data,
            errors=errors,
            billable=mapped.billable,
            provider_cost=mapped.provider_cost,
            sources=[SourceAttempt(plugin=self.id, status=mapped.status, billable=mapped.billable,
                                   provider_cost=mapped.provider_cost, elapsed_ms=elapsed_ms, meta=meta)],
        )

    def _transport_failure(self, service: str, code: str, message: str, log: FunctionLogger | None,
                           query: FonteQuery) -> PluginResult:
        if log is not None:
            log.error(f"infosimples {service} {self._masked_key(query)} → {code}: {message}")
        result = PluginResult.error(Status.RETRYABLE, code, message)
        result.sources = [SourceAttempt(plugin=self.id, status=Status.RETRYABLE, meta={"service": service})]
        return result

    @staticmethod
    def _masked_key(query: FonteQuery) -> str:
        for kind in ("cpf", "cnpj", "placa", "renavam", "cep"):
            value = getattr(query, kind)
            if value:
                return f"{kind}={documents.mask(kind, value)}"
        return ""
