"""A small world of tenants and members created once for the CORE tests that only read it (or change
it in ways that leave it as they found it): the role matrix, isolation and validation tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.actors import Actor, add_member, create_tenant, create_user, platform_admin, tenant_id_for


@dataclass
class World:
    admin: Actor
    a: str
    b: str
    a_roles: dict[str, Actor]
    b_roles: dict[str, Actor]
    outsider: Actor


@pytest.fixture(scope="session")
def world(stack) -> World:
    admin = platform_admin(stack)
    a, a_owner = create_tenant(stack, admin, tenant_id_for("a"), name="Alpha")
    b, b_owner = create_tenant(stack, admin, tenant_id_for("b"), name="Bravo")
    a_roles = {"owner": a_owner, **{role: add_member(a_owner, role) for role in ("admin", "analyst", "viewer")}}
    b_roles = {"owner": b_owner, **{role: add_member(b_owner, role) for role in ("admin", "analyst", "viewer")}}
    return World(admin, a, b, a_roles, b_roles, create_user(stack))
