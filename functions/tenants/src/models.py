"""Request bodies and queries of the tenants function (invalid → 422 with field errors)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from bigtech.pagination import PageQuery
from bigtech.tenancy import TENANT_ID_PATTERN, TENANT_ID_RULE

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
Status = Literal["active", "suspended"]


class TenantSettings(BaseModel):
    """Per-tenant overrides of the platform defaults."""

    model_config = ConfigDict(extra="forbid")

    # strict integers: "100", true and 1.0 are refused (422 naming the field)
    rate_limit_per_minute: StrictInt | None = Field(None, ge=1, le=100_000,
                                                    description="Calls per member per minute (bigtech.ratelimit)")
    retention_days: StrictInt | None = Field(None, ge=1, le=36_500)
    result_retention_days: StrictInt | None = Field(None, ge=1, le=36_500)  # consulta results (docs/operations.md)
    # credits per consulta category (bigtech.credits.pricing: credito 180, cadastral 100, veicular 300)
    prices: dict[Literal["credito", "cadastral", "veicular"],
                 Annotated[StrictInt, Field(ge=0, le=1_000_000)]] | None = None


class CreateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str
    name: str = Field(min_length=1, max_length=128)
    owner_email: str = Field(max_length=254, pattern=EMAIL_PATTERN)
    owner_name: str = Field(min_length=1, max_length=128)
    settings: TenantSettings = Field(default_factory=TenantSettings)

    @field_validator("id")
    @classmethod
    def _tenant_id(cls, value: str) -> str:
        if not TENANT_ID_PATTERN.match(value):
            raise ValueError(TENANT_ID_RULE)
        return value

    @field_validator("owner_email")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UpdateTenant(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(None, min_length=1, max_length=128)
    status: Status | None = None
    settings: TenantSettings | None = None


class ListTenants(PageQuery):
    status: Status | None = None
