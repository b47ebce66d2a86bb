"""mercado-atacado's key management on the local stack: owners/admins create, list, update, rotate and
revoke keys through executions; the secret is shown once and stored nowhere; every change is audited."""

from __future__ import annotations

import importlib
import json

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from tests.conftest import make_client

FN = "mercado-atacado"


def create_key(owner, **fields):
    body = {"name": "ERP", "scopes": ["consultas:cadastral", "consultas:read", "balance:read", "usage:read"], **fields}
    return owner.call(FN, "POST", "/keys", body)


def test_create_needs_only_name_and_scopes_and_shows_the_secret_once(stack, market):
    result = create_key(market.owner)
    assert result.status == 201, result
    secret, key = result.body["secret"], result.body["key"]
    assert secret.startswith("bt_test_") and len(secret) >= 8 + 43  # 32 random bytes
    assert key["prefix"] == secret[:16] and key["status"] == "active"
    assert key["tier"] == "standard" and key["rate_limit_per_minute"] == 60 and key["rate_limit_per_day"] == 10000
    assert key["wallet_id"] == "tenant.service"
    listed = market.owner.call(FN, "GET", "/keys")
    assert listed.status == 200
    mine = [k for k in listed.body["items"] if k["id"] == key["id"]]
    assert mine and "secret" not in mine[0] and secret not in listed.raw
    # the audit entry names the prefix, never the secret
    audit = market.owner.call("audit", "GET", "/", None)
    assert secret not in audit.raw


def test_the_secret_is_stored_nowhere(stack, market):
    secret = create_key(market.owner).body["secret"]
    tables = TablesDB(make_client(stack))
    for database_id, table_id in (("core", "api_keys"), (f"tenant_{market.tenant}", "audit"),
                                  (f"tenant_{market.tenant}", "outbox")):
        rows = tables.list_rows(database_id, table_id, [Query.limit(5000)]).rows
        dumped = json.dumps([row.data for row in rows], default=str)
        assert secret not in dumped and secret[16:] not in dumped, table_id


def test_only_owners_and_admins_manage_keys(stack, market):
    assert market.analyst.call(FN, "POST", "/keys", {"name": "x", "scopes": ["balance:read"]}).status == 403
    assert market.analyst.call(FN, "GET", "/keys").status == 403


def test_bad_bodies_are_422_and_create_nothing(stack, market):
    before = len(market.owner.call(FN, "GET", "/keys").body["items"])
    for body in ({"scopes": ["balance:read"]}, {"name": "x"}, {"name": "x", "scopes": ["root"]},
                 {"name": "x", "scopes": ["balance:read"], "rate_limit_per_minute": 0},
                 {"name": "x", "scopes": ["balance:read"], "ip_allowlist": ["not-an-ip"]},
                 {"name": "x", "scopes": ["balance:read"], "expires_at": "2000-01-01T00:00:00Z"},
                 {"name": "x", "scopes": ["balance:read"], "tier": "gold"},
                 {"name": "x", "scopes": ["balance:read"], "key_hash": "0" * 64}):
        result = market.owner.call(FN, "POST", "/keys", body)
        assert result.status == 422, (body, result)
    assert len(market.owner.call(FN, "GET", "/keys").body["items"]) == before


def test_update_rotate_revoke_are_audited_and_tenant_scoped(stack, market):
    created = create_key(market.owner, rate_limit_per_minute=5)
    key_id = created.body["key"]["id"]
    patched = market.owner.call(FN, "PATCH", f"/keys/{key_id}", {"rate_limit_per_day": 7, "name": "ERP 2"})
    assert patched.status == 200, patched
    assert patched.body["key"]["rate_limit_per_minute"] == 5 and patched.body["key"]["rate_limit_per_day"] == 7
    assert patched.body["key"]["name"] == "ERP 2"
    # another tenant's owner cannot see or touch it
    assert market.other_owner.call(FN, "PATCH", f"/keys/{key_id}", {"name": "x"}).status == 404
    assert market.other_owner.call(FN, "DELETE", f"/keys/{key_id}").status == 404
    rotated = market.owner.call(FN, "POST", f"/keys/{key_id}/rotate")
    assert rotated.status == 200, rotated
    assert rotated.body["secret"] != created.body["secret"] and rotated.body["key"]["id"] == key_id
    revoked = market.owner.call(FN, "DELETE", f"/keys/{key_id}")
    assert revoked.status == 200 and revoked.body["key"]["status"] == "revoked"
    tables = TablesDB(make_client(stack))
    entries = tables.list_rows(f"tenant_{market.tenant}", "audit",
                               [Query.equal("resource_id", [key_id]), Query.limit(20)]).rows
    assert sorted(row.data["action"] for row in entries) == [
        "apikeys.create", "apikeys.revoke", "apikeys.rotate", "apikeys.update"]
    events = tables.list_rows(f"tenant_{market.tenant}", "outbox", [Query.limit(5000)]).rows
    types = {row.data["type"] for row in events if key_id in (row.data.get("payload") or "")}
    assert types == {"apikey.created", "apikey.updated", "apikey.rotated", "apikey.revoked"}


def _key_row(tables, key_id):
    rows = tables.list_rows("core", "api_keys", [Query.equal("key_id", [key_id])]).rows
    return rows[0] if rows else None


def test_the_key_row_is_named_by_the_secret_and_moves_on_rotation(stack, market):
    """Only the secret's holder can name the row the gate increments: its id is derived from the secret's
    hash, never the public id, and a rotated key leaves its old row (the old secret names nothing)."""
    from tests.mercado.test_atacado_public import api

    tables = TablesDB(make_client(stack))
    created = create_key(market.owner).body
    key_id, secret = created["key"]["id"], created["secret"]
    before = _key_row(tables, key_id)
    assert before.id != key_id and before.data["key_id"] == key_id
    rotated = market.owner.call(FN, "POST", f"/keys/{key_id}/rotate").body["secret"]
    after = _key_row(tables, key_id)
    assert after.id != before.id and after.data["created_at"] == before.data["created_at"]
    assert api(stack, secret, "GET", "/v1/balance").status_code == 401
    assert api(stack, rotated, "GET", "/v1/balance").status_code == 200


def test_a_key_stored_before_derived_row_ids_keeps_working_and_moves_on_first_use(stack, market):
    from tests.mercado.test_atacado_public import api

    tables = TablesDB(make_client(stack))
    created = create_key(market.owner, rate_limit_per_day=2).body
    key_id, secret = created["key"]["id"], created["secret"]
    row = _key_row(tables, key_id)  # put it back as keys were stored before: row id = public id
    legacy = {k: v for k, v in row.data.items()
              if not k.startswith("$") and k not in ("key_id", "created_at", "minute_slots") and v is not None}
    tables.delete_row("core", "api_keys", row.id)
    tables.create_row("core", "api_keys", key_id, legacy)
    assert market.owner.call(FN, "PATCH", f"/keys/{key_id}", {"name": "ERP legacy"}).status == 200
    assert [api(stack, secret, "GET", "/v1/balance").status_code for _ in range(3)] == [200, 200, 429]
    moved = _key_row(tables, key_id)
    assert moved is not None and moved.id == row.id and moved.data["client_name"] == "ERP legacy"
    listed = [k for k in market.owner.call(FN, "GET", "/keys").body["items"] if k["id"] == key_id]
    assert listed and listed[0]["name"] == "ERP legacy"


def test_the_minute_counter_refills_each_minute_and_refuses_past_the_limit(stack, market):
    from local_appwrite.runner.loader import bind_package
    from tests.support.actors import REPO_ROOT

    bind_package("_atacado_limits", REPO_ROOT / "plugins" / "mercado" / "atacado")
    limits = importlib.import_module("_atacado_limits.src.limits")
    tables = TablesDB(make_client(stack))
    key_id = create_key(market.owner, rate_limit_per_minute=2).body["key"]["id"]
    row_id = _key_row(tables, key_id).id
    start = 60 * 10_000_000.0  # a minute of its own, far from the clock of any other request

    def counts(at, n):
        return [limits.claim_minute(tables, "core", "api_keys", row_id, at)[1].count for _ in range(n)]

    assert counts(start + 1, 3) == [1, 2, 3]  # the third is past the limit of 2
    assert counts(start + 59, 1) == [3]
    assert counts(start + 61, 3) == [1, 2, 3]  # the next minute: refilled once
