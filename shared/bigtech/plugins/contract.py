"""The data that crosses the plugin boundary: what CORE sends a plugin and what the plugin answers.

Wire protocol (see ``docs/plugins.md``): CORE calls ``POST /execute`` with an ``ExecuteRequest``
body and gets a ``PluginResult`` back, **always with HTTP 200** once the request is well formed: the
outcome (``ok``, ``not_found``, ``input_error``, ``retryable``, ``failed``) is in ``status``, because
a "nada consta" or a refused CPF is a normal, often billable, answer and not a transport failure.

Money is integer cents (docs/api-style.md): a fonte reports what the provider charged as
``provider_cost_cents`` (``20`` for R$ 0,20). A plugin built before that may still send the legacy
decimal string ``provider_cost`` (``"0.20"``): it is read as cents (half up) and never sent back.
``provider_cost`` stays readable in code as a ``Decimal`` of reais.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Status(StrEnum):
    """Outcome of one execution.

    - ``ok``: data found (billable per the source);
    - ``not_found``: a valid answer with no record ("nada consta"): often **billable**;
    - ``input_error``: the source refused the input (may be billable, e.g. Infosimples 606-608);
    - ``retryable``: transient, not billable: try the next fonte;
    - ``failed``: not transient (misconfiguration, unsupported query, unusable billable answer such as
      Infosimples 611/619/620).
    """

    OK = "ok"
    NOT_FOUND = "not_found"
    INPUT_ERROR = "input_error"
    RETRYABLE = "retryable"
    FAILED = "failed"


class PluginError(BaseModel):
    """One problem, machine-readable ``code`` plus a human ``message``; ``detail`` never holds a document."""

    model_config = ConfigDict(extra="forbid")

    code: str
    message: str = ""
    detail: dict[str, Any] | None = None


class FonteRef(BaseModel):
    """A fonte the consulta may call, in the tenant's order, with that fonte's (decrypted) config."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^fonte-[a-z0-9][a-z0-9-]*$")
    config: dict[str, Any] = Field(default_factory=dict)


def _fonte_refs(value: Any) -> Any:
    """Accept ``["fonte-a", {"id": "fonte-b", "config": {...}}]``: bare ids mean an empty config."""
    if isinstance(value, list):
        return [{"id": item} if isinstance(item, str) else item for item in value]
    return value


class ExecuteRequest(BaseModel):
    """Body of ``POST /execute``."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(min_length=1, max_length=64)
    request_id: str = Field(min_length=1, max_length=128)
    input: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    fontes: list[FonteRef] = Field(default_factory=list)

    _normalise_fontes = field_validator("fontes", mode="before")(_fonte_refs)


class LifecycleRequest(BaseModel):
    """Body of ``POST /enable`` and ``POST /disable`` (and, with no tenant, ``POST /install``)."""

    model_config = ConfigDict(extra="forbid")

    tenant_id: str | None = Field(default=None, max_length=64)
    config: dict[str, Any] = Field(default_factory=dict)


class PluginContext(BaseModel):
    """What ``Plugin.execute`` receives. ``config`` is already decrypted (secrets included): never log it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tenant_id: str
    request_id: str
    input: dict[str, Any] = Field(default_factory=dict)
    config: dict[str, Any] = Field(default_factory=dict)
    fontes: list[FonteRef] = Field(default_factory=list)
    # The execution's Open Runtimes context (for logging and the x-appwrite-key); None in unit tests.
    runtime: Any = Field(default=None, exclude=True, repr=False)

    @classmethod
    def from_request(cls, body: ExecuteRequest, runtime: Any = None) -> PluginContext:
        return cls(
            tenant_id=body.tenant_id,
            request_id=body.request_id,
            input=body.input,
            config=body.config,
            fontes=body.fontes,
            runtime=runtime,
        )

    def __repr__(self) -> str:  # input and config hold documents and secrets
        return f"PluginContext(tenant_id={self.tenant_id!r}, request_id={self.request_id!r})"

    __str__ = __repr__


def to_cents(value: Any) -> int:
    """Reais (``Decimal``, ``"0.20"``, ``1``) → integer cents, half up."""
    return int((Decimal(str(value)) * 100).quantize(Decimal("1"), ROUND_HALF_UP))


def _legacy_cost(data: Any) -> Any:
    """``provider_cost`` (reais, decimal) given to a constructor or by an older plugin → ``provider_cost_cents``."""
    if isinstance(data, dict) and "provider_cost" in data:
        data = dict(data)
        cost = data.pop("provider_cost")
        data.setdefault("provider_cost_cents", to_cents(cost or 0))
    return data


class ProviderCost(BaseModel):
    """What the provider charged, in integer cents (BRL)."""

    provider_cost_cents: int = Field(0, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, data: Any) -> Any:
        return _legacy_cost(data)

    @property
    def provider_cost(self) -> Decimal:
        return Decimal(self.provider_cost_cents) / 100


class SourceAttempt(ProviderCost):
    """One call to one fonte, in the order tried: what CORE shows as ``sources`` and audits."""

    model_config = ConfigDict(extra="forbid")

    plugin: str
    status: Status
    billable: bool = False
    elapsed_ms: int = 0
    query: str | None = None  # the fonte query (``cpf``, ``cnpj``, ``fipe``…) when a consulta made several
    error: PluginError | None = None
    # Provider bookkeeping worth auditing (Infosimples ``service``, ``requested_at``, ``site_receipts``…).
    meta: dict[str, Any] = Field(default_factory=dict)


class PluginResult(ProviderCost):
    """Answer of ``POST /execute`` (HTTP 200 whatever the status)."""

    model_config = ConfigDict(extra="forbid")

    status: Status
    data: dict[str, Any] | None = None
    errors: list[PluginError] = Field(default_factory=list)
    sources: list[SourceAttempt] = Field(default_factory=list)
    billable: bool = False

    @model_validator(mode="after")
    def _data_only_when_ok(self) -> PluginResult:
        # not_found may carry data (e.g. credito's "nada consta" report); errors carry none.
        if self.status in (Status.INPUT_ERROR, Status.RETRYABLE, Status.FAILED) and self.data is not None:
            raise ValueError(f"a {self.status.value} result carries no data")
        return self

    @property
    def first_error(self) -> PluginError | None:
        return self.errors[0] if self.errors else None

    @classmethod
    def error(
        cls,
        status: Status,
        code: str,
        message: str = "",
        *,
        billable: bool = False,
        provider_cost: Decimal | str | int = 0,
        detail: dict[str, Any] | None = None,
    ) -> PluginResult:
        """Shortcut for a result without data."""
        return cls(
            status=status,
            errors=[PluginError(code=code, message=message, detail=detail)],
            billable=billable,
            provider_cost_cents=to_cents(provider_cost),
        )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


__all__ = [
    "ExecuteRequest",
    "FonteRef",
    "LifecycleRequest",
    "PluginContext",
    "PluginError",
    "PluginResult",
    "SourceAttempt",
    "Status",
]
