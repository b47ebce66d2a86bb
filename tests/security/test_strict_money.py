"""Strict money (issue 9, finding 9): every credit, cent and amount field in a request is a strict
integer within documented bounds. ``"100"``, ``true`` and ``1.0`` are refused naming the field — a value of
the wrong type is malformed, 400 ``invalid_type`` (docs/api-style.md); an integer out of bounds is 422 —
and nothing changes (no grant, no ledger entry, no setting)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bigtech.platform_settings import PlatformSettings, PlatformSettingsUpdate
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

LOOSE = ["100", True, 1.0, 100.5, None, [100], {"value": 100}]


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("sm"))
    analyst = add_member(owner, "analyst")
    return admin, tenant_id, owner, analyst


def fields_of(result) -> set[str]:
    return {d.get("field") for d in (result.body["error"].get("details") or [])}


@pytest.mark.parametrize("credits", LOOSE)
def test_grants_refuse_loose_credit_types(world, credits):
    _admin, _tenant_id, owner, analyst = world
    result = owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": credits,
                                                       "reason": "loose types"})
    assert (result.status, result.error_code) == (400, "invalid_type") and "credits" in fields_of(result), result
    assert analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"] == 0


@pytest.mark.parametrize("credits", [0, -1, 100_000_001])
def test_grants_refuse_credits_out_of_bounds(world, credits):
    _admin, _tenant_id, owner, analyst = world
    result = owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": credits,
                                                       "reason": "bounds"})
    assert result.status == 422 and "credits" in fields_of(result), result


@pytest.mark.parametrize(("setting", "value"), [
    ("rate_limit_per_minute", "30"), ("rate_limit_per_minute", True), ("rate_limit_per_minute", 30.0),
    ("retention_days", "365"), ("prices", {"credito": "180"}), ("prices", {"credito": 180.0}),
    ("prices", {"cadastral": True}),
])
def test_tenant_settings_refuse_loose_types(world, setting, value):
    admin, tenant_id, _owner, _analyst = world
    result = admin.call("tenants", "PATCH", f"/{tenant_id}", {"settings": {setting: value}})
    assert (result.status, result.error_code) == (400, "invalid_type"), result
    assert any(f.startswith(f"settings.{setting}") for f in fields_of(result)), result
    assert admin.call("tenants", "GET", f"/{tenant_id}").body["tenant"]["settings"] == {}


@pytest.mark.parametrize("setting", ["credit_value_cents", "min_purchase_credits", "max_purchase_credits",
                                     "default_rate_limit_per_minute", "retention_days"])
@pytest.mark.parametrize("value", ["100", True, 100.0])
def test_platform_settings_refuse_loose_types(world, setting, value):
    admin = world[0]
    before = admin.call("tenants", "GET", "/settings").body
    result = admin.call("tenants", "PATCH", "/settings", {setting: value})
    assert (result.status, result.error_code) == (400, "invalid_type") and setting in fields_of(result), result
    assert admin.call("tenants", "GET", "/settings").body == before


def test_platform_settings_models_are_strict_too():
    with pytest.raises(ValidationError):
        PlatformSettings(credit_value_cents="100")
    with pytest.raises(ValidationError):
        PlatformSettingsUpdate(max_purchase_credits=True)
    assert PlatformSettingsUpdate(max_purchase_credits=10).max_purchase_credits == 10
