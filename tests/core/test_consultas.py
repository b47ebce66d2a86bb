"""The consultas function on the local stack: input validation per category, LGPD fields, history,
per-role visibility, tenant isolation, and no unmasked document in any log."""

from __future__ import annotations

import pytest
from appwrite.query import Query
from appwrite.services.functions import Functions

from bigtech.documents import cnpj_check_digits, cpf_check_digits, renavam_check_digit
from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

CPF = "529982247" + cpf_check_digits("529982247")
CNPJ = "11222333000181"
ALNUM_CNPJ = "12ABC34501DE35"
RENAVAM = "6399446715" + renavam_check_digit("6399446715")


def post(actor, body, key=None):
    return actor.call("consultas", "POST", "/", body, headers={"idempotency-key": key} if key else None)


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

    one = analyst2.call("consultas", "GET", f"/{mine[0]}")
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
