"""Data minimisation (issue 9, finding 11): a consulta's stored result holds full documents; viewers
read it with every CPF/CNPJ masked, on every read path, while the member who ran it and the tenant's
owners and admins (and platform admins) read it in full."""

from __future__ import annotations

import json

import pytest

from bigtech.documents import cpf_check_digits
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

CPF = "529982247" + cpf_check_digits("529982247")


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("dm"))
    analyst = add_member(owner, "analyst")
    other_analyst = add_member(owner, "analyst")
    viewer = add_member(owner, "viewer")
    member_admin = add_member(owner, "admin")
    granted = owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 1000,
                                                        "reason": "data minimisation"})
    assert granted.status == 201, granted
    ran = analyst.call("consultas", "POST", "/", {"category": "cadastral", "document": CPF,
                                                  "purpose": "análise cadastral", "legal_basis": "protecao_credito"}
                      ).unwrapped("consulta")
    assert ran.status == 201 and ran.body["status"] == "succeeded", ran
    return {"admin": admin, "tenant_id": tenant_id, "owner": owner, "analyst": analyst, "viewer": viewer,
            "other_analyst": other_analyst, "member_admin": member_admin, "consulta": ran.body}


def test_the_member_who_ran_it_gets_the_full_document_in_the_answer(world):
    assert world["consulta"]["documents"] == "full"
    assert CPF in json.dumps(world["consulta"]["result"])


@pytest.mark.parametrize("who", ["analyst", "owner", "member_admin", "admin"])
def test_full_documents_for_the_runner_owners_and_admins(world, who):
    actor = world[who]
    headers = {"x-tenant-id": world["tenant_id"]} if who == "admin" else None
    detail = actor.call("consultas", "GET", f"/{world['consulta']['id']}", headers=headers).unwrapped("consulta")
    assert detail.status == 200, detail
    assert detail.body["documents"] == "full"
    assert CPF in detail.raw


def test_viewers_get_every_document_masked(world):
    detail = world["viewer"].call("consultas", "GET", f"/{world['consulta']['id']}").unwrapped("consulta")
    assert detail.status == 200, detail
    assert detail.body["documents"] == "masked"
    assert CPF not in detail.raw and "529.982.247" not in detail.raw
    assert "***.982.247-**" in detail.raw  # masked, still recognisable as that record
    assert detail.body["result"] is not None  # the rest of the result is still there


def test_history_lists_never_carry_results_or_full_documents(world):
    for who in ("viewer", "owner", "analyst"):
        listed = world[who].call("consultas", "GET", "/")
        assert listed.status == 200, listed
        assert CPF not in listed.raw
        assert all("result" not in item for item in listed.body["items"])


def test_another_analyst_cannot_read_it_at_all(world):
    detail = world["other_analyst"].call("consultas", "GET", f"/{world['consulta']['id']}").unwrapped("consulta")
    assert detail.status == 404
