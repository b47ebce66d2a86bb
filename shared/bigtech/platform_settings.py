"""Platform settings (core ``settings`` row ``platform``): what a credit is worth and the defaults every
tenant starts from. Validated as a whole, so a partial update can never leave an inconsistent pair
(a minimum purchase above the maximum)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from .schema_constants import CORE_DATABASE_ID

SETTINGS_TABLE = "settings"
SETTINGS_ROW = "platform"
# The plugins a new tenant starts with (bigtech.plugin_loader.defaults): a consulta works out of the box.
DEFAULT_PLUGINS = ("fonte-sandbox", "consulta-cadastral", "consulta-credito", "consulta-veicular",
                   "pagamento-sandbox")  # and a payment gateway: the sandbox (docs/payments.md)
PLUGIN_ID_PATTERN = r"^(fonte|consulta|pagamento|mercado|funcional)-[a-z0-9][a-z0-9-]*$"
PluginId = Annotated[str, StringConstraints(pattern=PLUGIN_ID_PATTERN)]


# Money and limits are strict integers: "100", true and 1.0 are refused with a 422 naming the field.
DEFAULT_RATE_LIMIT_PER_MINUTE = 120  # per member and tenant (bigtech.ratelimit); tenants may override


class CatalogueBounds(BaseModel):
    """The platform's bounds on a tenant's retail catalogue (mercado-varejo, docs/mercado.md): prices in
    credits per consulta (a category's or a product's), how many products and packages, and each package's
    credits and price. A tenant's catalogue is checked against them whenever it is saved enabled (422)."""

    model_config = ConfigDict(extra="forbid")

    min_price: StrictInt = Field(10, ge=1, le=10_000_000, description="Least credits a consulta or product may cost")
    max_price: StrictInt = Field(100_000, ge=1, le=10_000_000)
    max_products: StrictInt = Field(50, ge=0, le=500)
    max_packages: StrictInt = Field(20, ge=0, le=200)
    min_package_credits: StrictInt = Field(100, ge=1, le=1_000_000_000)
    max_package_credits: StrictInt = Field(10_000_000, ge=1, le=1_000_000_000)
    min_package_price_cents: StrictInt = Field(100, ge=1, le=1_000_000_000)
    max_package_price_cents: StrictInt = Field(10_000_000, ge=1, le=1_000_000_000)
    currency: Literal["BRL"] = "BRL"  # of the *_cents bounds (docs/api-style.md)

    @model_validator(mode="after")
    def _ranges(self) -> CatalogueBounds:
        for low, high in (("min_price", "max_price"), ("min_package_credits", "max_package_credits"),
                          ("min_package_price_cents", "max_package_price_cents")):
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{high} must be at least {low}")
        return self


class PlatformSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    credit_value_cents: StrictInt = Field(100, ge=1, le=1_000_000, description="Price of one credit in BRL cents")
    min_purchase_credits: StrictInt = Field(10, ge=1, le=100_000_000)
    max_purchase_credits: StrictInt = Field(100_000, ge=1, le=100_000_000)
    default_rate_limit_per_minute: StrictInt = Field(DEFAULT_RATE_LIMIT_PER_MINUTE, ge=1, le=100_000,
                                                     description="Calls per member per minute (bigtech.ratelimit)")
    retention_days: StrictInt = Field(1825, ge=1, le=36_500, description="How long consultas and logs are kept")
    # LGPD minimisation (docs/operations.md): consulta results (the personal data) are purged sooner
    result_retention_days: StrictInt = Field(90, ge=1, le=36_500, description="Days a consulta's result is kept")
    idempotency_retention_days: StrictInt = Field(7, ge=1, le=3650, description="Days idempotency keys are kept")
    delivery_log_retention_days: StrictInt = Field(30, ge=1, le=3650, description="Days delivery logs are kept")
    # the platform's fee model (bigtech.ops.usage): per billable consulta and/or a share of the revenue
    platform_fee_per_consulta_cents: StrictInt = Field(0, ge=0, le=1_000_000)
    platform_fee_revenue_bp: StrictInt = Field(0, ge=0, le=10_000, description="Basis points of tenant revenue")
    default_plugins: list[PluginId] = Field(default_factory=lambda: list(DEFAULT_PLUGINS), max_length=50,
                                            description="Plugins enabled for every new tenant")
    catalogue: CatalogueBounds = Field(default_factory=CatalogueBounds)

    @model_validator(mode="after")
    def _purchase_range(self) -> PlatformSettings:
        if self.min_purchase_credits > self.max_purchase_credits:
            raise ValueError("max_purchase_credits must be at least min_purchase_credits")
        return self


class PlatformSettingsUpdate(BaseModel):
    """``PATCH /settings``: any subset of the settings."""

    model_config = ConfigDict(extra="forbid")

    credit_value_cents: StrictInt | None = Field(None, ge=1, le=1_000_000)
    min_purchase_credits: StrictInt | None = Field(None, ge=1, le=100_000_000)
    max_purchase_credits: StrictInt | None = Field(None, ge=1, le=100_000_000)
    default_rate_limit_per_minute: StrictInt | None = Field(None, ge=1, le=100_000)
    retention_days: StrictInt | None = Field(None, ge=1, le=36_500)
    result_retention_days: StrictInt | None = Field(None, ge=1, le=36_500)
    idempotency_retention_days: StrictInt | None = Field(None, ge=1, le=3650)
    delivery_log_retention_days: StrictInt | None = Field(None, ge=1, le=3650)
    platform_fee_per_consulta_cents: StrictInt | None = Field(None, ge=0, le=1_000_000)
    platform_fee_revenue_bp: StrictInt | None = Field(None, ge=0, le=10_000)
    default_plugins: list[PluginId] | None = Field(None, max_length=50)
    # any subset of CatalogueBounds, merged over the current bounds and validated whole (``currency`` may be
    # sent back as read: "BRL")
    catalogue: dict[str, StrictInt | Literal["BRL"]] | None = Field(None, max_length=len(CatalogueBounds.model_fields))


def load(tables: TablesDB) -> tuple[PlatformSettings, bool]:
    """The current settings and whether the row exists (defaults when it does not)."""
    try:
        row = tables.get_row(CORE_DATABASE_ID, SETTINGS_TABLE, SETTINGS_ROW)
    except AppwriteException as error:
        if error.code == 404:
            return PlatformSettings(), False
        raise
    stored: dict[str, Any] = json.loads(row.data.get("value") or "{}")
    known = {k: v for k, v in stored.items() if k in PlatformSettings.model_fields}
    return PlatformSettings(**known), True
