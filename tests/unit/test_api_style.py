"""The style-guide checker (tests/support/api_style.py) and the central helpers that make answers pass it."""

from __future__ import annotations

import pytest

from bigtech.errors import NotFound, PaymentRequired, detail_values, normalise_details
from bigtech.pagination import PageQuery, paginate, unpaged
from tests.support.api_style import violations


@pytest.mark.parametrize(("status", "body", "path", "problem"), [
    (200, {"id": "c1", "status": "ok"}, "/c1", "wrapped by its name"),
    (200, {"member": {"user_id": "u1", "role": "viewer"}}, "/u1", "own id as `id`"),
    (200, {"items": [{"id": "a"}], "next_cursor": None, "total": 1}, "/", "without ?total=true"),
    (200, {"items": [{"id": "a"}], "next_cursor": None}, "/?total=true", "no integer total"),
    (200, {"items": [], "next_cursor": None, "limit": 5}, "/", "list answer keys"),
    (200, {"items": [{"role": "x"}], "next_cursor": None}, "/", "carries its id"),
    (200, {"package": {"id": "p", "price": "50.00", "price_cents": 5000, "currency": "BRL"}}, "/", "without its unit"),
    (200, {"order": {"id": "o", "amount_cents": 5000}}, "/", "without their currency"),
    (200, {"report": {"provider_cost_brl": "0.20"}}, "/", "decimal money"),
    (200, {"consulta": {"id": "c", "cost_credits": "100"}}, "/", "must be an integer"),
    (404, {"error": {"code": "x", "message": "y", "details": None}}, "/", "must be a list"),
    (402, {"error": {"code": "x", "message": "y", "details": {"balance": 0}}}, "/", "must be a list"),
    (400, {"error": {"code": "x", "message": "y"}}, "/", "not code/message/details"),
    (422, {"detail": "bad"}, "/", "not {error"),
])
def test_the_checker_names_each_violation(status, body, path, problem):
    assert any(problem in found for found in violations(status, body, path=path)), violations(status, body, path=path)


@pytest.mark.parametrize(("status", "body", "path"), [
    (201, {"consulta": {"id": "c", "cost_credits": 100, "result": {"valor": "12.50"}}, "audit_id": "a1"}, "/"),
    (200, {"items": [{"id": "a"}], "next_cursor": "a", "total": 9}, "/?limit=1&total=true"),
    (200, {"catalogue": {"id": "t", "packages": [{"id": "p", "price_cents": 5000, "currency": "BRL"}],
                         "currency": "BRL"}}, "/"),
    (200, {"status": "ok", "version": "0.1.0"}, "/"),
    (200, {"status": "ok", "provider_cost_cents": 20, "sources": [{"provider_cost_cents": 20}]}, "/execute"),
    (402, {"error": {"code": "insufficient_credits", "message": "m",
                     "details": [{"field": "balance", "message": "balance: 0", "value": 0}]}}, "/"),
])
def test_answers_that_follow_the_guide_pass(status, body, path):
    assert violations(status, body, path=path) == []


def test_error_details_are_always_a_list():
    assert NotFound().to_body()["error"]["details"] == []
    facts = PaymentRequired(details={"balance": 40, "price": 100}).to_body()
    assert detail_values(facts) == {"balance": 40, "price": 100}
    assert normalise_details([{"field": "a", "message": "m", "extra": 1}, "plain"]) == [
        {"field": "a", "message": "m"}, {"message": "plain"}]


def test_total_only_on_request():
    page = PageQuery(limit=1)
    assert paginate(["a", "b"], page, str, str) == {"items": ["a"], "next_cursor": "a"}
    counted = PageQuery.model_validate({"limit": "1", "total": "true"})
    assert paginate(["a", "b"], counted, str, str, total=7) == {"items": ["a"], "next_cursor": "a", "total": 7}
    assert unpaged([1, 2], counted) == {"items": [1, 2], "next_cursor": None, "total": 2}
