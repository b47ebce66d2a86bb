"""The billing function on the local stack: wallets, the ledger statement and audited, idempotent grants;
and the balance in ``auth GET /me``."""

from __future__ import annotations

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from tests.conftest import make_client
from tests.support.actors import Actor, add_member, create_tenant, platform_admin, tenant_id_for


def grant(actor, user_id, credits, key=None, reason="welcome credits", tenant=None):
    return actor.call("billing", "POST", "/grants", {"user_id": user_id, "credits": credits, "reason": reason},
                      headers={"idempotency-key": key} if key else None, tenant=tenant)


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("bl"))
    _, stranger_owner = create_tenant(stack, admin, tenant_id_for("bl2"))
    return {"admin": admin, "tenant": tenant_id, "owner": owner, "analyst": add_member(owner, "analyst"),
            "viewer": add_member(owner, "viewer"), "stranger": stranger_owner}


def test_grants_are_audited_idempotent_and_for_managers_only(stack, world):
    owner, analyst = world["owner"], world["analyst"]
    first = grant(owner, analyst.user_id, 250, key="grant-1")
    assert first.status == 201, first
    assert first.body["grant"]["credits"] == 250 and first.body["audit_id"].startswith("a")
    again = grant(owner, analyst.user_id, 250, key="grant-1")
    assert again.status == 201 and again.body == first.body and again.headers["idempotent-replayed"] == "true"
    assert grant(owner, analyst.user_id, 999, key="grant-1").error_code == "idempotency_key_reused"
    assert analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"] == 250

    assert grant(analyst, analyst.user_id, 10).status == 403
    assert grant(world["viewer"], analyst.user_id, 10).status == 403
    assert grant(owner, world["stranger"].user_id, 10).error_code == "member_not_found"
    assert grant(owner, analyst.user_id, 0).status == 422
    assert owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 5}).status == 422
    admin = world["admin"]
    assert grant(admin, analyst.user_id, 50, tenant=world["tenant"]).status == 201  # platform admin, audited
    assert analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"] == 300

    db = f"tenant_{world['tenant']}"
    tables = TablesDB(make_client(stack))
    events = tables.list_rows(db, "outbox", [Query.equal("type", ["credits.granted"]), Query.limit(100)]).rows
    assert len(events) == 2
    audit = tables.get_row(db, "audit", first.body["audit_id"]).data
    assert audit["action"] == "grants.create" and audit["actor"] == owner.user_id


def test_wallets_are_private_to_their_member_and_managers(world):
    owner, analyst, viewer = world["owner"], world["analyst"], world["viewer"]
    assert viewer.call("billing", "GET", "/wallet").body["wallet"] == {
        "id": viewer.user_id, "user_id": viewer.user_id, "balance": 0, "held": 0, "updated_at": None}
    assert viewer.call("billing", "GET", f"/wallet?user_id={analyst.user_id}").status == 403
    seen = owner.call("billing", "GET", f"/wallet?user_id={analyst.user_id}")
    assert seen.status == 200 and seen.body["wallet"]["user_id"] == analyst.user_id
    stranger = world["stranger"]
    assert stranger.call("billing", "GET", f"/wallet?user_id={analyst.user_id}").body["wallet"]["balance"] == 0


def test_the_statement_filters_and_pages(world):
    owner, analyst = world["owner"], world["analyst"]
    for n in range(3):
        assert grant(owner, analyst.user_id, 10 + n, key=f"page-{n}").status == 201
    assert grant(owner, owner.user_id, 7).status == 201
    mine = analyst.call("billing", "GET", "/ledger?limit=100").body["items"]
    assert mine and {e["wallet_id"] for e in mine} == {analyst.user_id}
    assert [e["amount_credits"] for e in mine[:3]] == [12, 11, 10]  # newest first
    assert all(e["balance_effect"] == e["amount_credits"] for e in mine if e["type"] == "grant")
    assert analyst.call("billing", "GET", f"/ledger?user_id={owner.user_id}").status == 403
    everyone = owner.call("billing", "GET", "/ledger?limit=100").body["items"]
    assert {analyst.user_id, owner.user_id} <= {e["wallet_id"] for e in everyone}
    page = owner.call("billing", "GET", f"/ledger?user_id={analyst.user_id}&type=grant&limit=2").body
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = owner.call("billing", "GET",
                      f"/ledger?user_id={analyst.user_id}&type=grant&limit=100&cursor={page['next_cursor']}").body
    assert len(page["items"]) + len(rest["items"]) == len(mine) and rest["next_cursor"] is None
    assert analyst.call("billing", "GET", "/ledger?type=hold").body["items"] == []
    assert analyst.call("billing", "GET", "/ledger?from=2999-01-01T00:00:00Z").body["items"] == []
    assert analyst.call("billing", "GET", "/ledger?type=gift").status == 422
    assert analyst.call("billing", "GET", "/ledger?cursor=nope-not-a-row").status == 422


def test_me_shows_the_balance(world):
    analyst = world["analyst"]
    balance = analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    me = analyst.call("auth", "GET", "/me")
    assert me.status == 200 and me.body["wallet"] == {"balance": balance, "held": 0}
    lone = Actor(world["admin"].stack, world["admin"].user_id, "", world["admin"].jwt)
    assert lone.call("auth", "GET", "/me").body["wallet"] is None  # no tenant, no wallet
