"""The plugins function on the local stack: the catalog, a new tenant's default set, config validation
against the manifest, encrypted secrets that never come back, dependency rules both ways, lifecycle
calls, audit ids and ``plugin.*`` events; and a consulta falling back from a failing fonte."""

from __future__ import annotations

import base64
import os

import pytest
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech import secrets_box
from bigtech.errors import detail_values
from bigtech.plugin_loader import rules
from bigtech.plugins.manifest import load_manifest
from tests.conftest import make_client
from tests.support.actors import (
    REPO_ROOT,
    add_member,
    create_tenant,
    platform_admin,
    tenant_id_for,
    wait_until_provisioned,
)

os.environ.setdefault(secrets_box.KEY_VARIABLE, base64.b64encode(b"k" * 32).decode())

DEFAULTS = {"fonte-sandbox", "consulta-cadastral", "consulta-credito", "consulta-veicular"}
SECRET = "tok-SuperSecret-4242-never-shown"


def rows(stack, tenant_id, table, *queries):
    return TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", table, [*queries, Query.limit(100)]).rows


def audit_seq(stack, tenant_id) -> int:
    return TablesDB(make_client(stack)).get_row(f"tenant_{tenant_id}", "audit_head", "head").data["seq"]


def state(actor) -> dict[str, dict]:
    return {p["id"]: p for p in actor.call("plugins", "GET", "/").body["items"]}


@pytest.fixture(scope="module")
def admin(stack):
    return platform_admin(stack)


@pytest.fixture(scope="module")
def tenant(stack, admin):
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("pl"))
    return tenant_id, owner


# -- pure pieces ------------------------------------------------------------------------------------

def test_secrets_box_round_trip_and_binding():
    key = os.urandom(32)
    sealed = secrets_box.seal({"token": SECRET}, "t1/fonte-x", key)
    assert SECRET not in sealed and sealed.startswith("v1.")
    assert secrets_box.open_sealed(sealed, "t1/fonte-x", key) == {"token": SECRET}
    with pytest.raises(secrets_box.SecretsCorrupted):
        secrets_box.open_sealed(sealed, "t2/fonte-x", key)  # copied into another tenant's row
    with pytest.raises(secrets_box.SecretsCorrupted):
        secrets_box.open_sealed(sealed, "t1/fonte-x", os.urandom(32))
    with pytest.raises(secrets_box.SecretsKeyMissing):
        secrets_box.load_key({}, env_file=REPO_ROOT / "no-such.env")
    with pytest.raises(secrets_box.SecretsKeyMissing):
        secrets_box.load_key({secrets_box.KEY_VARIABLE: base64.b64encode(b"short").decode()})


def test_dependency_rules():
    cadastral = load_manifest(REPO_ROOT / "plugins/consulta/cadastral/plugin.json")
    sandbox = load_manifest(REPO_ROOT / "plugins/fonte/sandbox/plugin.json")
    catalog = {m.id: m for m in (cadastral, sandbox)}
    assert rules.missing_for(cadastral, set()) != []
    assert rules.missing_for(cadastral, {"fonte-sandbox"}) == []
    assert rules.needed_by("fonte-sandbox", {"fonte-sandbox", "consulta-cadastral"}, catalog) == ["consulta-cadastral"]
    assert rules.needed_by("fonte-sandbox", {"fonte-sandbox", "fonte-brasilapi", "consulta-cadastral"}, catalog) == []


# -- on the stack -----------------------------------------------------------------------------------

def test_a_new_tenant_starts_with_the_default_plugins(stack, admin):
    tenant_id = tenant_id_for("pd")
    result = admin.call("tenants", "POST", "/", {"id": tenant_id, "name": "Defaults",
                                                 "owner_email": f"{tenant_id}@example.com", "owner_name": "O"})
    assert result.status == 202, result  # provisioning (plugins included) runs asynchronously
    wait_until_provisioned(admin, tenant_id)
    defaults = {r.data["plugin_id"] for r in rows(stack, tenant_id, "plugins") if r.data["enabled"]}
    assert defaults >= DEFAULTS  # the platform setting may name more (e.g. a payment sandbox)
    audit = rows(stack, tenant_id, "audit", Query.equal("action", ["plugins.enable_defaults"]))
    assert len(audit) == 1
    events = [r.data["type"] for r in rows(stack, tenant_id, "outbox", Query.equal("type", ["plugin.enabled"]))]
    assert len(events) == len(defaults)


def test_catalog_is_readable_by_members_and_synced_by_platform_admins(tenant, admin):
    _, owner = tenant
    viewer = add_member(owner, "viewer")
    listed = viewer.call("plugins", "GET", "/catalog")
    assert listed.status == 200
    by_id = {p["id"]: p for p in listed.body["items"]}
    assert set(by_id) >= DEFAULTS
    assert by_id["consulta-cadastral"]["category"] == "cadastral"
    assert by_id["fonte-infosimples"]["secret_fields"] == ["token"]
    assert viewer.call("plugins", "GET", "/catalog?type=consulta").body["items"][0]["type"] == "consulta"
    assert owner.call("plugins", "POST", "/catalog/sync").status == 403
    synced = admin.call("plugins", "POST", "/catalog/sync")
    assert synced.status == 200, synced
    assert {"fonte-sandbox", "fonte-infosimples", "consulta-credito"} <= set(synced.body["synced"])
    assert synced.body["audit_id"].startswith("a")


def test_a_bad_config_is_422_and_changes_nothing(stack, tenant):
    tenant_id, owner = tenant
    analyst = add_member(owner, "analyst")
    before, seq = state(owner), audit_seq(stack, tenant_id)
    bad = owner.call("plugins", "PUT", "/fonte-sandbox", {"config": {"price": "cheap", "bogus": 1}})
    assert bad.status == 422, bad
    assert {d["field"] for d in bad.body["error"]["details"]} == {"config.price", "config.bogus"}
    no_token = owner.call("plugins", "PUT", "/fonte-infosimples", {"enabled": True, "config": {"timeout": 10}})
    assert no_token.status == 422 and no_token.body["error"]["details"] == [
        {"field": "config.token", "message": "required"}]
    assert owner.call("plugins", "PUT", "/fonte-sandbox", {"config": "nope"}).status == 400  # wrong type
    assert owner.call("plugins", "PUT", "/fonte-nope", {"enabled": True}).status == 404
    assert owner.call("plugins", "PUT", "/Not_A_Plugin", {"enabled": True}).status == 422
    assert analyst.call("plugins", "PUT", "/fonte-sandbox", {"enabled": False}).status == 403
    assert state(owner) == before and audit_seq(stack, tenant_id) == seq


def test_secrets_are_encrypted_and_never_returned(stack, tenant):
    tenant_id, owner = tenant
    config = {"token": SECRET, "base_url": "https://api.infosimples.com/api/v2/consultas", "timeout": 5}
    put = owner.call("plugins", "PUT", "/fonte-infosimples", {"enabled": True, "config": config})
    assert put.status == 200, put
    assert put.body["plugin"]["secrets_set"] == ["token"] and "token" not in put.body["plugin"]["config"]
    assert put.body["event"] == "plugin.enabled" and put.body["audit_id"].startswith("a")
    # reconfigure without resending the token: it is kept
    again = owner.call("plugins", "PUT", "/fonte-infosimples", {"config": {"base_url": "https://api.infosimples.com/api/v2/consultas/"}})
    assert again.status == 200 and again.body["plugin"]["secrets_set"] == ["token"]
    assert again.body["event"] == "plugin.configured"
    # removing a required secret of an enabled plugin is a bad config
    assert owner.call("plugins", "PUT", "/fonte-infosimples", {"config": {"token": None}}).status == 422
    listed = owner.call("plugins", "GET", "/")
    for raw in (put.raw, again.raw, listed.raw):
        assert SECRET not in raw
    stored = rows(stack, tenant_id, "plugins", Query.equal("plugin_id", ["fonte-infosimples"]))[0].data
    assert SECRET not in stored["secrets"] and SECRET not in stored["config"]
    for table in ("audit", "outbox"):
        assert all(SECRET not in str(r.data) for r in rows(stack, tenant_id, table))
    functions = Functions(make_client(stack))
    for function_id in ("plugins", "fonte-infosimples"):
        for execution in functions.list_executions(function_id, [Query.limit(100)]).executions:
            assert SECRET not in f"{execution.logs}{execution.errors}{execution.responsebody or ''}"
    enables = functions.list_executions("fonte-infosimples", [Query.equal("requestPath", ["/enable"])]).executions
    assert len(enables) >= 2  # each change called the plugin's lifecycle route


def test_a_consulta_falls_back_from_a_failing_fonte_to_the_next(stack, tenant):
    _, owner = tenant
    # fonte-infosimples (enabled above with its token) points at a closed port: it fails, sandbox answers
    order = owner.call("plugins", "PUT", "/consulta-cadastral",
                       {"config": {"fontes": ["fonte-infosimples", "fonte-sandbox"]}})
    assert order.status == 200, order
    assert owner.call("billing", "POST", "/grants",
                      {"user_id": owner.user_id, "credits": 100, "reason": "fallback"}).status == 201
    result = owner.call("consultas", "POST", "/", {"category": "cadastral", "document": "11222333000181",
                                                   "purpose": "kyc", "legal_basis": "art7_V"}).unwrapped("consulta")
    assert result.status == 201, result
    sources = result.body["sources"]
    assert [s["plugin"] for s in sources] == ["fonte-infosimples", "fonte-sandbox"]
    assert sources[0]["status"] == "retryable" and sources[1]["status"] == "ok"  # token reached the fonte
    assert result.body["status"] == "succeeded" and result.body["cost_credits"] == 100


def test_dependencies_hold_both_ways(stack, admin):
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("pr"))
    blocked = owner.call("plugins", "DELETE", "/fonte-sandbox")
    assert blocked.status == 409 and blocked.error_code == "plugin_required"
    assert set(detail_values(blocked.body)["needed_by"]) == DEFAULTS - {"fonte-sandbox"}
    assert owner.call("plugins", "PUT", "/fonte-sandbox", {"enabled": False}).status == 409
    for plugin_id in sorted(DEFAULTS - {"fonte-sandbox"}):
        done = owner.call("plugins", "DELETE", f"/{plugin_id}")
        assert done.status == 200 and done.body["event"] == "plugin.disabled", done
    assert owner.call("plugins", "DELETE", "/fonte-sandbox").status == 200
    missing = owner.call("plugins", "PUT", "/consulta-cadastral", {"enabled": True})
    assert missing.status == 409 and missing.error_code == "plugin_dependency_missing"
    assert owner.call("plugins", "DELETE", "/consulta-cadastral").body["changed"] is False
    assert owner.call("plugins", "PUT", "/fonte-sandbox", {"enabled": True}).status == 200
    assert owner.call("plugins", "PUT", "/consulta-cadastral", {"enabled": True}).status == 200
    enabled = {p for p, s in state(owner).items() if s["enabled"]}
    assert {"fonte-sandbox", "consulta-cadastral"} <= enabled
    assert not enabled & {"consulta-credito", "consulta-veicular"}
    types = [r.data["type"] for r in rows(stack, tenant_id, "outbox", Query.starts_with("type", "plugin."))]
    assert types.count("plugin.disabled") == 4 and types.count("plugin.enabled") == len(enabled) + 4
