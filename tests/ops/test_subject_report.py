"""LGPD data-subject reports on the local stack: a CPF looked up in two tenants; the platform admin
(scope platform) sees both, each owner only their own; never the document nor a result; audited."""

from __future__ import annotations

import base64
import json

import pytest
from appwrite.services.tables_db import TablesDB

from bigtech.documents import cpf_check_digits
from bigtech.schema.core import CORE_DATABASE_ID
from tests.conftest import make_client
from tests.ops.test_backup_restore import consulta
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

SUBJECT = "123456789" + cpf_check_digits("123456789")
OTHER = "529982247" + cpf_check_digits("529982247")


@pytest.fixture(scope="module")
def world(stack):
    admin = platform_admin(stack)
    tenants = []
    for prefix in ("sa", "sb"):
        tenant_id, owner = create_tenant(stack, admin, tenant_id_for(prefix))
        analyst = add_member(owner, "analyst")
        assert owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 1000,
                                                         "reason": "dsar"}).status == 201
        tenants.append((tenant_id, owner, analyst))
    consulta(tenants[0][2], SUBJECT)
    consulta(tenants[0][2], OTHER)
    consulta(tenants[1][2], f"{SUBJECT[:3]}.{SUBJECT[3:6]}.{SUBJECT[6:9]}-{SUBJECT[9:]}")  # same CPF, masked
    consulta(tenants[1][2], SUBJECT)
    return {"admin": admin, "a": tenants[0], "b": tenants[1]}


@pytest.mark.slow
def test_platform_admin_sees_every_tenant_owner_only_their_own(world):
    a_id, a_owner, a_analyst = world["a"]
    b_id, b_owner, _ = world["b"]
    platform = world["admin"].call("privacy", "POST", "/subject-report", {"document": SUBJECT, "scope": "platform"})
    assert platform.status == 200, platform
    report = platform.body["report"]
    mine = [c for c in report["consultas"] if c["tenant_id"] in (a_id, b_id)]
    assert sorted(c["tenant_id"] for c in mine) == sorted([a_id, b_id, b_id])
    assert {c["tenant_id"] for c in report["controllers"]} >= {a_id, b_id}
    first = next(c for c in mine if c["tenant_id"] == a_id)
    assert first["purpose"] == "onboarding/KYC" and first["legal_basis"] == "protecao_credito"
    assert first["category"] == "cadastral" and first["requested_by"]["user_id"] == a_analyst.user_id
    assert first["requested_by"]["email"] == a_analyst.email and first["at"]
    assert report["subject"]["masked"] != SUBJECT and SUBJECT not in platform.raw
    assert "result" not in first and platform.body["audit_id"] and first["sources"] == ["fonte-sandbox"]

    own = a_owner.call("privacy", "POST", "/subject-report", {"document": SUBJECT})
    assert own.status == 200, own
    assert [c["tenant_id"] for c in own.body["report"]["consultas"]] == [a_id]
    assert len(b_owner.call("privacy", "POST", "/subject-report", {"document": SUBJECT}).body["report"]
               ["consultas"]) == 2
    audited = a_owner.call("audit", "GET", "/?action=privacy.subject_report").body["items"]
    assert audited and SUBJECT not in json.dumps(audited)
    platform_trail = world["admin"].call("audit", "GET", "/platform?action=privacy.subject_report").body["items"]
    assert platform_trail


def test_who_may_ask_and_bad_documents(world):
    _a_id, a_owner, a_analyst = world["a"]
    assert a_owner.call("privacy", "POST", "/subject-report", {"document": SUBJECT, "scope": "platform"}
                        ).status == 403
    assert a_analyst.call("privacy", "POST", "/subject-report", {"document": SUBJECT}).status == 403
    bad = a_owner.call("privacy", "POST", "/subject-report", {"document": "123.456.789-00"})
    assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "document"
    assert a_owner.call("privacy", "POST", "/subject-report", {"document": SUBJECT, "extra": 1}).status == 422
    assert a_owner.call("privacy", "POST", "/subject-report", raw_body="{not json").status == 400


def test_the_report_as_pdf(world):
    _a_id, a_owner, _ = world["a"]
    from tests.support.actors import call

    result = call(a_owner.stack, a_owner.jwt, "privacy", "POST", "/subject-report",
                  {"document": SUBJECT, "format": "pdf"}, {"x-tenant-id": _a_id})
    assert result.status == 200 and result.headers["content-type"].startswith("application/pdf")
    assert result.headers["x-audit-id"]
    body = result.raw.encode("latin-1") if result.raw.startswith("%PDF") else base64.b64decode(result.raw)
    assert body.startswith(b"%PDF") and SUBJECT.encode() not in body


def test_a_tenant_without_its_database_is_named_not_skipped(stack, world):
    """A platform-wide report over a tenant whose database is gone says it is incomplete and names it."""
    tables = TablesDB(make_client(stack))
    ghost = tenant_id_for("ghost")
    tables.upsert_row(CORE_DATABASE_ID, "tenants", ghost, {
        "name": ghost, "status": "active", "team_id": ghost, "database_id": f"tenant_{ghost}",
        "provisioning": "active"})
    try:
        answer = world["admin"].call("privacy", "POST", "/subject-report", {"document": SUBJECT, "scope": "platform"})
    finally:
        tables.delete_row(CORE_DATABASE_ID, "tenants", ghost)
    assert answer.status == 200, answer
    report = answer.body["report"]
    assert report["complete"] is False and ghost in report["unreachable_tenants"]
    assert {c["tenant_id"] for c in report["consultas"]} >= {world["a"][0], world["b"][0]}  # the others still searched
