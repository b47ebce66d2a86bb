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

from bigtech.log import mask_text
from bigtech.plugins import FonteQuery, HttpAttempt, HttpFonte, Manifest, PluginContext, PluginResult, Status

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


class InfosimplesFonte(HttpFonte):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"
    provider = "Infosimples"
    log_name = "infosimples"

    def __init__(self, manifest: Manifest | None = None, transport: httpx.BaseTransport | None = None,
                 throttle: DuplicateThrottle | None = None) -> None:
        super().__init__(manifest, transport)
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

        attempt = self.attempt(ctx, query, service)
        throttle_key = self.throttle.key(ctx.tenant_id, service, query)
        if self.throttle.blocked(throttle_key):
            return self.result(attempt, Status.FAILED, code="duplicate_query_throttled",
                               message="This query was repeated too often (Infosimples 622); held back for now.",
                               detail={"provider_code": 622, "retry": False})
        response = self.send(attempt, "POST", url, timeout=timeout + int(config.get("http_timeout_margin") or 5),
                             data=form, headers={"accept": "application/json"})
        if response.status_code != 200:
            raise self.failure(attempt, "provider_unavailable", f"Infosimples answered HTTP {response.status_code}.")
        payload = attempt.json()
        if not isinstance(payload, dict) or "code" not in payload:
            raise self.failure(attempt, "invalid_provider_response",
                               "Infosimples answered something that is not its envelope.")
        result = self._result(attempt, payload)
        if result.errors and result.errors[0].code == "duplicate_query":
            backoff = float(config.get("duplicate_backoff_seconds") or DEFAULT_DUPLICATE_BACKOFF)
            self.throttle.hold(throttle_key, backoff)
            self.log_error(attempt, f"→ ALERT code 622: the same query is being repeated (tenant {ctx.tenant_id});"
                                    " throttled, not retried")
        return result

    def _result(self, attempt: HttpAttempt, payload: dict[str, Any]) -> PluginResult:
        mapped = map_response(payload)
        header = raw if isinstance(raw := payload.get("header"), dict) else {}
        meta = {
            "provider_code": mapped.provider_code,
            "price": str(mapped.price),
            "requested_at": header.get("requested_at"),
            "elapsed_time_in_milliseconds": header.get("elapsed_time_in_milliseconds", attempt.elapsed_ms),
            "site_receipts": [r for r in payload.get("site_receipts") or [] if isinstance(r, str)],
            "data_count": payload.get("data_count"),
        }
        note = (f"code {mapped.provider_code} {mapped.status.value} billable={mapped.billable} "
                f"price={mapped.price}")
        if mapped.status is Status.OK:
            try:
                data = NORMALIZERS[attempt.query.name](payload["data"][0], attempt.query)
            except UnrecognisedShape:
                # Infosimples may have charged (meta keeps its price), but an answer we cannot read is
                # not sold: a clear non-billable error, never an empty "nada consta".
                return self.result(attempt, Status.FAILED, code="unrecognised_response",
                                   message=f"Infosimples answered {attempt.service} in an unknown shape.",
                                   detail={"provider_code": mapped.provider_code},
                                   meta={**meta, "provider_billable": mapped.billable}, note=note)
            return self.result(attempt, Status.OK, data=data, billable=mapped.billable,
                               provider_cost=mapped.provider_cost, meta=meta, note=note)
        if not mapped.error_code:
            return self.result(attempt, mapped.status, billable=mapped.billable, provider_cost=mapped.provider_cost,
                               meta=meta, note=note)
        rule = CODE_TABLE.get(mapped.provider_code)
        detail: dict[str, Any] = {"provider_code": mapped.provider_code}
        if mapped.config_alert:
            detail["config_alert"] = True
        if mapped.provider_code == 622:
            detail.update({"alert": True, "retry": False})
        code_message = payload.get("code_message")
        if isinstance(code_message, str) and code_message:
            detail["code_message"] = mask_text(code_message)[:300]
        return self.result(attempt, mapped.status, code=mapped.error_code,
                           message=rule.meaning if rule else f"unknown Infosimples code {mapped.provider_code}",
                           detail=detail, billable=mapped.billable, provider_cost=mapped.provider_cost, meta=meta,
                           note=note)
