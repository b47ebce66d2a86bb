"""One ``httpx`` client per gateway call, with timeouts, and gateway failures mapped to Bigtech errors.

Nothing is cached between executions: a client is built for one charge (the transport can be injected,
which is how tests record requests with ``httpx.MockTransport``). Gateway answers are never echoed
whole into errors or logs (they may carry the payer's document).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from ..errors import BigtechError

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


class GatewayError(BigtechError):
    """The gateway refused or failed a call. 502: our request reached a gateway that said no."""

    status = 502
    default_code = "gateway_error"
    default_message = "The payment gateway could not process the request."

    def __init__(self, message: str | None = None, *, gateway_status: int | None = None, retryable: bool = False,
                 **kwargs: Any) -> None:
        self.gateway_status = gateway_status
        self.retryable = retryable
        super().__init__(message, **kwargs)


def client(base_url: str, headers: Mapping[str, str], transport: httpx.BaseTransport | None = None,
           timeout: httpx.Timeout = DEFAULT_TIMEOUT) -> httpx.Client:
    return httpx.Client(base_url=base_url.rstrip("/") + "/", headers=dict(headers), timeout=timeout,
                        transport=transport)


def request_json(http: httpx.Client, method: str, path: str, *, gateway: str, json: Any = None,
                 params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None) -> Any:
    """Send one request; the parsed JSON on 2xx, a ``GatewayError`` otherwise (codes only, no payloads)."""
    try:
        response = http.request(method, path.lstrip("/"), json=json, params=params,
                                headers=dict(headers) if headers else None)
    except httpx.TimeoutException:
        raise GatewayError(f"{gateway} did not answer in time.", code="gateway_timeout", retryable=True) from None
    except httpx.HTTPError as error:
        raise GatewayError(f"{gateway} is unreachable ({type(error).__name__}).", code="gateway_unreachable",
                           retryable=True) from None
    if response.status_code >= 400:
        code = {401: "gateway_unauthorized", 403: "gateway_unauthorized", 429: "gateway_rate_limited"}.get(
            response.status_code, "gateway_rejected" if response.status_code < 500 else "gateway_error")
        raise GatewayError(f"{gateway} answered {response.status_code}{_first_error(response)}.", code=code,
                           gateway_status=response.status_code, retryable=response.status_code in (429, 500, 502,
                                                                                                    503, 504))
    try:
        return response.json()
    except ValueError:
        raise GatewayError(f"{gateway} answered something that is not JSON.", code="gateway_error") from None


def _first_error(response: httpx.Response) -> str:
    """The gateway's own error code/description (Asaas ``errors[0]``, Pagar.me ``message``), if any."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            first = errors[0]
            return f": {first.get('code') or ''!s} {str(first.get('description') or '')[:160]}".rstrip()
        if isinstance(body.get("message"), str):
            return f": {body['message'][:160]}"
    return ""


__all__ = ["DEFAULT_TIMEOUT", "GatewayError", "client", "request_json"]
