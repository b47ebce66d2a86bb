"""mercado-atacado's key management on the local stack: owners/admins create, list, update, rotate and
revoke keys through executions; the secret is shown once and stored nowhere; every change is audited."""

from __future__ import annotations

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
