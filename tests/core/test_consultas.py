"""The consultas function on the local stack: input validation per category, LGPD fields, history,
per-role visibility, tenant isolation, and no unmasked document in any log."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.documents import cnpj_check_digits, cpf_check_digits, renavam_check_digit
from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for, unique_suffix

CPF = "529982247" + cpf_check_digits("529982247")
CNPJ = "11222333000181"
ALNUM_CNPJ = "12ABC34501DE35"
RENAVAM = "6399446715" + renavam_check_digit("6399446715")


def post(actor, body, key=None):
    """``POST /``; a consulta answers ``{"consulta": {...}}``: the result's body is the consulta."""
    return actor.call("consultas", "POST", "/", body,
                      headers={"idempotency-key": key} if key else None).unwrapped("consulta")


def lookup(category="cadastral", **fields):
    return {"category": category, "purpose": "onboarding/KYC", "legal_basis": "art7_V", **fields}


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("cq"))
    other_id, other_owner = create_tenant(stack, admin, tenant_id_for("cq2"))
    analyst = add_member(owner, "analyst")
    analyst2 = add_member(owner, "analyst")
    viewer = add_member(owner, "viewer")
    for who in (owner, analyst, analyst2):
        assert owner.call("billing", "POST", "/grants",
                          {"user_id": who.user_id, "credits": 5000, "reason": "tests"}).status == 201
    assert other_owner.call("billing", "POST", "/grants",
                            {"user_id": other_owner.user_id, "credits": 5000, "reason": "tests"}).status == 201
    return {"admin": admin, "tenant": tenant_id, "owner": owner, "analyst": analyst, "analyst2": analyst2,
            "viewer": viewer, "other": other_id, "other_owner": other_owner}


@pytest.mark.parametrize(("category", "fields"), [
    ("cadastral", {"document": CPF}),
    ("cadastral", {"document": "529.982.247-25"}),
    ("cadastral", {"document": CNPJ}),
    ("cadastral", {"document": "12.abc.345/01de-35"}),  # alphanumeric CNPJ (July 2026), any case and mask
    ("credito", {"document": ALNUM_CNPJ}),
    ("veicular", {"plate": "ABC1234"}),                  # old format
    ("veicular", {"plate": "abc-1d23"}),                 # Mercosul
    ("veicular", {"renavam": RENAVAM}),
])
def test_valid_inputs_run(world, category, fields):
    result = post(world["analyst"], lookup(category, **fields))
    assert result.status == 201, result
    assert result.body["category"] == category
    assert result.body["status"] in ("succeeded", "not_found")
    assert result.body["audit_id"].startswith("a")
    assert result.body["sources"] and result.body["sources"][0]["plugin"] == "fonte-sandbox"
    for name in fields:  # the consulta's input is shown (and stored) masked
        assert "*" in result.body["input"][name]


@pytest.mark.parametrize(("body", "field"), [
    (lookup(document="52998224726"), "document"),                  # wrong check digit
    (lookup(document="11111111111"), "document"),                  # repeated digits
    (lookup(document="12ABC34501DE36"), "document"),               # alphanumeric CNPJ, wrong DV
    (lookup(), "document"),                                        # nothing to look up
    (lookup("veicular", plate="AB12345"), "plate"),
    (lookup("veicular", renavam=RENAVAM[:-1] + str((int(RENAVAM[-1]) + 1) % 10)), "renavam"),
    (lookup("veicular", document=CPF), "document"),                # a CPF is no vehicle
    (lookup("imoveis", document=CPF), "category"),
    ({"category": "cadastral", "document": CPF, "legal_basis": "art7_V"}, "purpose"),
    ({"category": "cadastral", "document": CPF, "purpose": "kyc"}, "legal_basis"),
    (lookup(document=CPF, legal_basis="because"), "legal_basis"),
    (lookup(document=CPF, extra="x"), "extra"),
])
def test_bad_input_is_422_and_charges_nothing(world, body, field):
    analyst = world["analyst"]
    before = analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    result = post(analyst, body)
    assert result.status == 422, result
    assert field in {d["field"] for d in result.body["error"]["details"]}
    assert "52998224726" not in result.raw and RENAVAM[:-1] not in result.raw  # values are never echoed
    assert analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"] == before


def test_viewer_may_read_but_not_run(world):
    assert post(world["viewer"], lookup(document=CPF)).status == 403
    assert world["viewer"].call("consultas", "GET", "/").status == 200


def test_history_filters_pagination_and_visibility(world):
    analyst, analyst2, owner = world["analyst"], world["analyst2"], world["owner"]
    mine = [post(analyst2, lookup(document=CPF)).body["id"],
            post(analyst2, lookup("veicular", plate="ABC1D99")).body["id"],   # not_found
            post(analyst2, lookup("credito", document=CNPJ)).body["id"]]
    items = analyst2.call("consultas", "GET", "/?limit=100").body["items"]
    assert {i["id"] for i in items} == set(mine)                        # analysts see only their own
    assert all("result" not in i for i in items)
    page1 = analyst2.call("consultas", "GET", "/?limit=2").body
    assert len(page1["items"]) == 2 and page1["next_cursor"]
    assert "total" not in page1  # counted only on request
    counted = analyst2.call("consultas", "GET", "/?limit=1&total=true").body
    assert counted["total"] == 3 and len(counted["items"]) == 1 and counted["next_cursor"]
    page2 = analyst2.call("consultas", "GET", f"/?limit=2&cursor={page1['next_cursor']}").body
    assert [i["id"] for i in page1["items"] + page2["items"]] == list(reversed(mine))  # newest first
    assert page2["next_cursor"] is None
    veicular = analyst2.call("consultas", "GET", "/?category=veicular").body["items"]
    assert [i["id"] for i in veicular] == [mine[1]]
    nf = analyst2.call("consultas", "GET", "/?status=not_found&category=veicular").body["items"]
    assert [i["id"] for i in nf] == [mine[1]]
    assert analyst2.call("consultas", "GET", "/?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").body["items"] == []
    assert len(analyst2.call("consultas", "GET", "/?from=2000-01-01T00:00:00Z&limit=100").body["items"]) == 3
    assert analyst2.call("consultas", "GET", "/?status=bogus").status == 422
    # managers see everyone's, and may narrow to one member
    everyone = owner.call("consultas", "GET", f"/?user_id={analyst2.user_id}&limit=100").body["items"]
    assert {i["id"] for i in everyone} == set(mine)
    assert len(owner.call("consultas", "GET", "/?limit=100").body["items"]) >= 3

    one = analyst2.call("consultas", "GET", f"/{mine[0]}").unwrapped("consulta")
    assert one.status == 200 and one.body["id"] == mine[0] and one.body["result"]["documento"]["tipo"] == "cpf"
    assert one.body["purpose"] == "onboarding/KYC" and one.body["legal_basis"] == "execucao_contrato"
    assert analyst.call("consultas", "GET", f"/{mine[0]}").status == 404          # another analyst's
    assert owner.call("consultas", "GET", f"/{mine[0]}").status == 200
    assert world["other_owner"].call("consultas", "GET", f"/{mine[0]}").status == 404  # another tenant's
    assert owner.call("consultas", "GET", "/no-such-consulta").status == 404


def test_a_disabled_category_is_refused_before_any_charge(world):
    other = world["other_owner"]
    assert other.call("plugins", "DELETE", "/consulta-veicular").status == 200
    before = other.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    result = post(other, lookup("veicular", plate="ABC1234"))
    assert result.status == 409 and result.error_code == "plugin_not_enabled"
    assert other.call("billing", "GET", "/wallet").body["wallet"]["balance"] == before
    assert other.call("plugins", "PUT", "/consulta-veicular", {"enabled": True}).status == 200
    assert post(other, lookup("veicular", plate="ABC1234")).status == 201


def test_documents_never_appear_unmasked_in_logs(stack, world):
    cpf = "123456789" + cpf_check_digits("123456789")
    cnpj = "12ABC345" + "01DE" + cnpj_check_digits("12ABC34501DE")
    for body in (lookup(document=cpf), lookup("credito", document=cnpj), lookup(document="1234567890")):
        post(world["analyst"], body)
    functions = Functions(make_client(stack))
    checked = 0
    for function_id in ("consultas", "consulta-cadastral", "consulta-credito", "fonte-sandbox"):
        executions = functions.list_executions(function_id, [Query.limit(100), Query.order_desc("$createdAt")])
        for execution in executions.executions:
            text = f"{execution.logs}\n{execution.errors}"
            assert cpf not in text and cnpj not in text and "123.456.789-09" not in text, function_id
            checked += 1
    assert checked > 3


# -- async consultas (docs/credits-consultas-plugins.md, "Async consultas") ---------------------------

def wait_final(actor, consulta_id, seconds=60.0):
    """``GET /{id}`` until the consulta leaves ``pending`` (the async execution runs on the stack)."""
    deadline = time.monotonic() + seconds
    seen = []
    while time.monotonic() < deadline:
        got = actor.call("consultas", "GET", f"/{consulta_id}").unwrapped("consulta")
        assert got.status == 200, got
        seen.append(got.body["status"])
        if got.body["status"] != "pending":
            return got.body, seen
        time.sleep(0.2)
    raise AssertionError(f"consulta {consulta_id} still pending: {seen[-3:]}")


def debits_for(stack, tenant_id, consulta_id):
    tables = TablesDB(make_client(stack))
    rows = tables.list_rows(f"tenant_{tenant_id}", "ledger", [Query.equal("reference_id", [consulta_id]),
                                                               Query.limit(100)]).rows
    return sorted(row.data["type"] for row in rows)


@pytest.mark.parametrize("how", ["body", "prefer"])
def test_async_consulta_is_accepted_then_reaches_its_final_state(stack, world, how):
    analyst = world["analyst"]
    before = analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    body = lookup(document=CPF, **({"async": True} if how == "body" else {}))
    headers = {"prefer": "respond-async"} if how == "prefer" else None
    accepted = analyst.call("consultas", "POST", "/", body, headers=headers)
    assert accepted.status == 202, accepted
    pending = accepted.unwrapped("consulta").body
    assert pending["status"] == "pending" and pending["id"] and pending["cost_credits"] == 0
    assert accepted.headers.get("preference-applied") == "respond-async"
    assert "*" in pending["input"]["document"]
    final, _ = wait_final(analyst, pending["id"])
    assert final["status"] in ("succeeded", "not_found") and final["cost_credits"] > 0
    assert final["audit_id"].startswith("a") and final["result"] is not None
    after = analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    assert before - after == final["cost_credits"]
    assert debits_for(stack, world["tenant"], pending["id"]) == ["debit", "hold"]


def test_async_consulta_with_one_key_charges_once_repeated_and_concurrent(stack, world):
    analyst = world["analyst2"]
    before = analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    key = f"async-{unique_suffix()}"
    body = lookup(document=CNPJ, **{"async": True})
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda _: post(analyst, body, key), range(4)))
    assert {a.status for a in answers} <= {201, 202, 409}, answers
    ids = {a.body["id"] for a in answers if a.status in (201, 202)}
    assert len(ids) == 1, answers  # every accepted answer names the same consulta
    consulta_id = ids.pop()
    final, _ = wait_final(analyst, consulta_id)
    again = post(analyst, body, key)  # repeated after it finished: the stored answer, nothing run
    assert again.status == 201 and again.body["id"] == consulta_id
    assert again.headers.get("idempotent-replayed") == "true"
    after = analyst.call("billing", "GET", "/wallet").body["wallet"]["balance"]
    assert before - after == final["cost_credits"] > 0  # charged exactly once
    assert debits_for(stack, world["tenant"], consulta_id) == ["debit", "hold"]
    listed = analyst.call("consultas", "GET", "/?limit=100").body["items"]
    assert [i["id"] for i in listed].count(consulta_id) == 1


def test_async_consulta_refused_after_acceptance_is_failed_and_free(stack, world):
    owner = world["other_owner"]
    assert owner.call("plugins", "DELETE", "/consulta-credito").status == 200
    try:
        before = owner.call("billing", "GET", "/wallet").body["wallet"]["balance"]
        accepted = post(owner, lookup("credito", document=CPF, **{"async": True}))
        assert accepted.status == 202, accepted
        final, _ = wait_final(owner, accepted.body["id"])
        assert final["status"] == "failed" and final["error"]["code"] == "plugin_not_enabled"
        assert final["cost_credits"] == 0
        assert owner.call("billing", "GET", "/wallet").body["wallet"]["balance"] == before
    finally:
        assert owner.call("plugins", "PUT", "/consulta-credito", {"enabled": True}).status == 200


def test_async_run_route_refuses_everyone_but_the_function(world):
    forged = {"consulta_id": "cforged", "tenant_id": world["tenant"]}
    answer = world["owner"].call("consultas", "POST", "/internal/run", forged)
    assert answer.status == 401 and answer.error_code == "core_only"


def test_audit_entries_name_the_actor(world):
    analyst = world["analyst"]
    done = post(analyst, lookup(document=CPF))
    assert done.status == 201
    entries = world["owner"].call("audit", "GET", f"/?actor={analyst.user_id}&action=consultas.create&limit=5")
    entry = next(e for e in entries.body["items"] if e["id"] == done.body["audit_id"])
    assert entry["actor"] == analyst.user_id
    assert entry["actor_name"] and entry["actor_name"] == entry["details"]["actor_name"]
