"""Credits on the local stack: reservations under concurrency, settle/release, idempotent retries, and a
ledger that always adds up to the balance (docs/credits-consultas-plugins.md#credits)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.credits import balance_from
from bigtech.documents import cpf_check_digits
from bigtech.errors import detail_values
from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

PRICE = {"credito": 180, "cadastral": 100, "veicular": 300}


def cpf(base9: str) -> str:
    return base9 + cpf_check_digits(base9)


DEFAULT = object()


def consulta(actor, category="cadastral", document=DEFAULT, key=None, **extra):
    body = {"category": category, "purpose": "análise de crédito", "legal_basis": "protecao_credito", **extra}
    if document is not None:
        body["document"] = cpf("123456123") if document is DEFAULT else document
    return actor.call("consultas", "POST", "/", body,
                      headers={"idempotency-key": key} if key else None).unwrapped("consulta")


def grant(owner, user_id, credits, key=None):
    body = {"user_id": user_id, "credits": credits, "reason": "test credits"}
    result = owner.call("billing", "POST", "/grants", body, headers={"idempotency-key": key} if key else None)
    assert result.status == 201, result
    return result


def wallet(actor):
    return actor.call("billing", "GET", "/wallet").body["wallet"]


def ledger_rows(stack, tenant_id, user_id):
    tables = TablesDB(make_client(stack))
    rows, cursor = [], None
    while True:
        queries = [Query.equal("wallet_id", [user_id]), Query.limit(100)]
        queries += [Query.cursor_after(cursor)] if cursor else []
        page = tables.list_rows(f"tenant_{tenant_id}", "ledger", queries).rows
        rows += [r.data for r in page]
        if len(page) < 100:
            return rows
        cursor = page[-1].id


def assert_ledger_adds_up(stack, tenant_id, actor):
    rows = ledger_rows(stack, tenant_id, actor.user_id)
    current = wallet(actor)
    assert balance_from(rows) == current["balance"]
    total = Counter()
    for row in rows:
        total[row["type"]] += row["amount"]
    assert total["hold"] == total["debit"] + total["release"] + current["held"]
    return rows


@pytest.fixture(scope="module")
def tenant(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("cr"))
    return tenant_id, owner


@pytest.mark.slow
def test_64_concurrent_consultas_on_a_balance_for_10(stack, tenant):
    tenant_id, owner = tenant
    analyst = add_member(owner, "analyst")
    grant(owner, analyst.user_id, 10 * PRICE["credito"])
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(lambda i: consulta(analyst, "credito", cpf(f"{100000000 + i * 7919:09d}"[:9])),
                                range(64)))
    statuses = Counter(r.status for r in results)
    assert statuses == {201: 10, 402: 54}, [r for r in results if r.status not in (201, 402)][:3]
    for refused in (r for r in results if r.status == 402):
        assert refused.error_code == "insufficient_credits"
        assert detail_values(refused.body)["price"] == PRICE["credito"]
        assert detail_values(refused.body)["balance"] < PRICE["credito"]
    assert all(r.body["cost_credits"] == PRICE["credito"] for r in results if r.status == 201)
    assert wallet(analyst) == {**wallet(analyst), "balance": 0, "held": 0}
    rows = assert_ledger_adds_up(stack, tenant_id, analyst)
    assert Counter(r["type"] for r in rows) == {"grant": 1, "hold": 10, "debit": 10}
    history = analyst.call("consultas", "GET", "/?limit=100").body["items"]
    assert len(history) == 10


def test_a_retry_with_the_same_key_returns_the_same_consulta_and_charges_once(stack, tenant):
    tenant_id, owner = tenant
    analyst = add_member(owner, "analyst")
    grant(owner, analyst.user_id, 1000)
    first = consulta(analyst, key="retry-1")
    again = consulta(analyst, key="retry-1")
    assert first.status == again.status == 201
    assert again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"
    assert wallet(analyst)["balance"] == 1000 - PRICE["cadastral"]
    rows = assert_ledger_adds_up(stack, tenant_id, analyst)
    assert [r["type"] for r in rows].count("debit") == 1

    # concurrent duplicates: one charge, the others get the same consulta or "still in progress"
    with ThreadPoolExecutor(max_workers=6) as pool:
        racing = list(pool.map(lambda _: consulta(analyst, key="race-1"), range(6)))
    ok = [r for r in racing if r.status == 201]
    assert ok and all(r.status in (201, 409) for r in racing)
    assert len({r.body["id"] for r in ok}) == 1
    assert all(r.error_code == "idempotency_in_progress" for r in racing if r.status == 409)
    assert wallet(analyst)["balance"] == 1000 - 2 * PRICE["cadastral"]

    # same key, different request: refused, nothing charged
    reused = consulta(analyst, document=cpf("987654321"), key="retry-1")
    assert reused.status == 422 and reused.error_code == "idempotency_key_reused"
    assert wallet(analyst)["balance"] == 1000 - 2 * PRICE["cadastral"]
    assert_ledger_adds_up(stack, tenant_id, analyst)


@pytest.mark.parametrize(("suffix", "charged", "status"), [
    ("997", False, "failed"),      # the source timed out: retryable, not billable → released
    ("996", False, "failed"),      # the source was unavailable: not billable → released
    ("999", True, "not_found"),    # "nada consta": a billable answer → charged
    ("995", True, "failed"),       # a billable source error (like Infosimples 620) → charged
])
def test_settle_or_release_by_outcome(stack, tenant, suffix, charged, status):
    tenant_id, owner = tenant
    analyst = add_member(owner, "analyst")
    grant(owner, analyst.user_id, 100)
    result = consulta(analyst, document=cpf(f"123456{suffix}"))
    assert result.status == 201, result
    assert result.body["status"] == status
    assert result.body["cost_credits"] == (100 if charged else 0)
    assert wallet(analyst) == {**wallet(analyst), "balance": 0 if charged else 100, "held": 0}
    rows = assert_ledger_adds_up(stack, tenant_id, analyst)
    assert sorted(r["type"] for r in rows) == sorted(["grant", "hold", "debit" if charged else "release"])
    if not charged:
        assert result.body["sources"][0]["status"] == "retryable"


def test_no_credits_is_402_with_balance_and_price(tenant):
    _, owner = tenant
    analyst = add_member(owner, "analyst")
    result = consulta(analyst, "veicular", document=None, plate="ABC1D23")
    assert result.status == 402
    assert detail_values(result.body) == {"balance": 0, "price": 300, "held": 0}
    grant(owner, analyst.user_id, 299)
    short = consulta(analyst, "veicular", document=None, plate="ABC1D23", key="short-1")
    assert short.status == 402 and detail_values(short.body)["balance"] == 299
    grant(owner, analyst.user_id, 1)  # after buying more, the same key may be used again
    assert consulta(analyst, "veicular", document=None, plate="ABC1D23", key="short-1").status == 201
    assert wallet(analyst)["balance"] == 0


def test_the_tenant_price_table_sets_the_price(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("px"))
    patched = admin.call("tenants", "PATCH", f"/{tenant_id}", {"settings": {"prices": {"cadastral": 40}}})
    assert patched.status == 200, patched
    assert admin.call("tenants", "PATCH", f"/{tenant_id}", {"settings": {"prices": {"imoveis": 1}}}).status == 422
    grant(owner, owner.user_id, 100)
    assert consulta(owner).body["cost_credits"] == 40
    refused = consulta(owner, "credito")  # categories the table does not list keep the default price
    assert refused.status == 402 and detail_values(refused.body) == {"balance": 60, "price": 180, "held": 0}
