"""A tenant with mercado-atacado enabled and a funded service wallet, for the mercado tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bigtech.credits import SERVICE_WALLET
from tests.support.actors import Actor, add_member, create_tenant, platform_admin, tenant_id_for

FUNDS = 100_000


@dataclass
class Market:
    admin: Actor
    tenant: str
    owner: Actor
    analyst: Actor
    other_tenant: str
    other_owner: Actor


def enable_atacado(owner: Actor) -> None:
    result = owner.call("plugins", "PUT", "/mercado-atacado", {"enabled": True})
    assert result.status == 200, result


def fund(owner: Actor, credits: int = FUNDS) -> None:
    result = owner.call("billing", "POST", "/grants", {"user_id": SERVICE_WALLET, "credits": credits,
                                                       "reason": "service wallet for API keys"})
    assert result.status == 201, result


@pytest.fixture(scope="session")
def market(stack) -> Market:
    admin = platform_admin(stack)
    assert admin.call("plugins", "POST", "/catalog/sync").status == 200
    tenant, owner = create_tenant(stack, admin, tenant_id_for("mk"))
    other, other_owner = create_tenant(stack, admin, tenant_id_for("mk2"))
    for who in (owner, other_owner):
        enable_atacado(who)
        fund(who)
    return Market(admin, tenant, owner, add_member(owner, "analyst"), other, other_owner)
