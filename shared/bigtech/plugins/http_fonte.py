"""``HttpFonte``: the base of fontes that answer by calling an HTTP API (BrasilAPI, Infosimples…).

What every HTTP fonte needs and none should write again:

- a client through the outbound guard (``FontePlugin.http_client``) with an injectable transport
  (tests pass ``httpx.MockTransport``) and the fonte's own timeout;
- transport errors mapped once: a refused URL → non-billable ``failed``/``outbound_refused``; a timeout →
  ``retryable``/``timeout``; any other ``httpx`` error → ``retryable``/``provider_unavailable``;
- the attempt record (``SourceAttempt`` with ``service``, ``http_status`` and the elapsed time);
- one log line per attempt, with the document masked (``<log_name> <service> cpf=***.982.247-** → …``).

A subclass sets ``provider`` and ``log_name`` and writes ``answer`` as::

    attempt = self.attempt(ctx, query, "cnpj/v1")
    response = self.send(attempt, "GET", url, timeout=10)          # SourceFailure on transport errors
    if response.status_code != 200:
        raise self.failure(attempt, "provider_unavailable", f"… answered HTTP {response.status_code}.")
    return self.result(attempt, Status.OK, data=...)

``SourceFailure`` carries its finished result; ``execute`` answers with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from .. import documents
from ..log import FunctionLogger
from ..outbound import OutboundRefused
from .contract import PluginContext, PluginResult, SourceAttempt, Status, to_cents
from .fonte import FontePlugin, FonteQuery
from .manifest import Manifest

MASKED_KINDS = ("cpf", "cnpj", "placa", "renavam", "cep")


def masked_key(query: FonteQuery) -> str:
    """``cpf=***.982.247-**``: the query's first document, log-safe ("" when it has none)."""
    for kind in MASKED_KINDS:
        value = getattr(query, kind)
        if value:
            return f"{kind}={documents.mask(kind, value)}"
    return ""


@dataclass
class HttpAttempt:
    """One call to the source: what the answer, its ``SourceAttempt`` and its log line are built from."""

    service: str
    query: FonteQuery
    log: FunctionLogger | None
    started: float = field(default_factory=time.monotonic)
    elapsed_ms: int = 0
    response: httpx.Response | None = None

    @property
    def http_status(self) -> int | None:
        return self.response.status_code if self.response is not None else None

    def json(self) -> Any:
        """The response body as JSON, ``None`` when there is none or it is not JSON."""
        if self.response is None:
            return None
        try:
            return self.response.json()
        except ValueError:
            return None


class SourceFailure(Exception):
    """The attempt ended without an answer worth reading; ``result`` is what the fonte answers."""

    def __init__(self, result: PluginResult) -> None:
        super().__init__(result.first_error.code if result.first_error else result.status.value)
        self.result = result


class HttpFonte(FontePlugin):
    provider: ClassVar[str] = ""  # the source's name in messages ("BrasilAPI")
    log_name: ClassVar[str] = ""  # first word of each log line ("brasilapi")

    def __init__(self, manifest: Manifest | None = None, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__(manifest)
        self.transport = transport  # tests inject httpx.MockTransport; None = the network

    def execute(self, ctx: PluginContext) -> PluginResult:
        try:
            return super().execute(ctx)
        except SourceFailure as failure:
            return failure.result

    def attempt(self, ctx: PluginContext, query: FonteQuery, service: str) -> HttpAttempt:
        return HttpAttempt(service=service, query=query,
                           log=FunctionLogger(ctx.runtime) if ctx.runtime is not None else None)

    def send(self, attempt: HttpAttempt, method: str, url: str, *, timeout: float | httpx.Timeout,
             **request: Any) -> httpx.Response:
        """``method url`` through the outbound guard; ``SourceFailure`` when no HTTP answer came back."""
        attempt.started = time.monotonic()
        try:
            with self.http_client(timeout) as client:
                attempt.response = client.request(method, url, **request)
        except OutboundRefused as error:
            raise SourceFailure(self.refused(error)) from None
        except httpx.TimeoutException:
            raise self.failure(attempt, "timeout", f"{self.provider} did not answer in time.") from None
        except httpx.HTTPError:
            raise self.failure(attempt, "provider_unavailable", f"{self.provider} could not be reached.") from None
        finally:
            attempt.elapsed_ms = int((time.monotonic() - attempt.started) * 1000)
        return attempt.response

    def failure(self, attempt: HttpAttempt, code: str, message: str, *, status: Status = Status.RETRYABLE,
                detail: dict[str, Any] | None = None) -> SourceFailure:
        """No usable answer (transport, HTTP status, not the provider's envelope): logged as an error, never
        billable. ``raise self.failure(…)``."""
        self.log_error(attempt, f"→ {code}: {message}")
        return SourceFailure(self.result(attempt, status, code=code, message=message, detail=detail, note=None))

    def result(self, attempt: HttpAttempt, status: Status, *, data: dict[str, Any] | None = None,
               code: str | None = None, message: str = "", detail: dict[str, Any] | None = None,
               billable: bool = False, provider_cost: Decimal = Decimal("0"), meta: dict[str, Any] | None = None,
               note: str | None = "") -> PluginResult:
        """The answer with its attempt record; logs ``→ <note or status> in N ms`` unless ``note`` is None."""
        cost_cents = to_cents(provider_cost)
        if code:
            result = PluginResult.error(status, code, message, detail=detail, billable=billable,
                                        provider_cost=provider_cost)
        else:
            result = PluginResult(status=status, data=data, billable=billable, provider_cost_cents=cost_cents)
        result.sources = [SourceAttempt(
            plugin=self.id, status=status, billable=billable, provider_cost_cents=cost_cents,
            elapsed_ms=attempt.elapsed_ms,
            meta={"service": attempt.service, "http_status": attempt.http_status, **(meta or {})})]
        if note is not None:
            self.log_line(attempt, f"→ {note or status.value} in {attempt.elapsed_ms} ms")
        return result

    def log_line(self, attempt: HttpAttempt, text: str) -> None:
        if attempt.log is not None:
            attempt.log.log(self._line(attempt, text))

    def log_error(self, attempt: HttpAttempt, text: str) -> None:
        if attempt.log is not None:
            attempt.log.error(self._line(attempt, text))

    def _line(self, attempt: HttpAttempt, text: str) -> str:
        return " ".join(part for part in (self.log_name, attempt.service, masked_key(attempt.query), text) if part)


__all__ = ["HttpAttempt", "HttpFonte", "SourceFailure", "masked_key"]
