"""The order state machine of crediting (functions/billing/src/crediting.py), every cell of its table."""

from __future__ import annotations

import importlib
import sys
import types

import pytest

from .helpers import REPO


def crediting():
    package = "_billing_for_payment_tests"
    if package not in sys.modules:
        pkg = types.ModuleType(package)
        pkg.__path__ = [str(REPO / "functions" / "billing")]
        sys.modules[package] = pkg
    return importlib.import_module(f"{package}.src.crediting")


@pytest.mark.parametrize(("status", "kind", "expected"), [
    ("pending", "confirmed", ("paid", True, None)),
    ("failed", "confirmed", ("paid", True, None)),
    ("canceled", "confirmed", ("paid", True, None)),
    ("pending", "failed", ("failed", False, None)),
    ("failed", "failed", (None, False, None)),
    ("pending", "refunded", ("refunded", True, "refund")),
    ("pending", "chargeback", ("chargeback", True, "chargeback")),
    ("paid", "confirmed", (None, False, None)),
    ("paid", "failed", (None, False, None)),
    ("paid", "refunded", ("refunded", False, "refund")),
    ("paid", "chargeback", ("chargeback", False, "chargeback")),
    ("refunded", "confirmed", (None, False, None)),
    ("refunded", "chargeback", (None, False, None)),
    ("chargeback", "refunded", (None, False, None)),
    ("chargeback", "confirmed", (None, False, None)),
])
def test_transition(status, kind, expected):
    plan = crediting().transition(status, kind)
    assert (plan.status, plan.credit, plan.reversal) == expected


@pytest.mark.parametrize("order", [
    ("confirmed", "refunded"), ("refunded", "confirmed"), ("confirmed", "chargeback", "refunded"),
    ("failed", "confirmed", "failed"), ("chargeback", "confirmed", "confirmed"),
])
def test_any_arrival_order_credits_at_most_once_and_reverses_at_most_once(order):
    module = crediting()
    status, credited, reversed_ = "pending", 0, 0
    for kind in order:
        plan = module.transition(status, kind)
        if not plan.noop:
            status = plan.status
            credited += plan.credit
            reversed_ += bool(plan.reversal)
    assert credited == 1 and reversed_ <= 1
    assert (reversed_ == 1) == any(k in ("refunded", "chargeback") for k in order)


# -- the money checks (issue 9 finding 2, issue 11 items 4-5) ------------------------------------------

ORDER = {"credits": 100, "amount_cents": 10000, "reversed_credits": 0}


@pytest.mark.parametrize(("data", "problem"), [
    ({"amount_cents": 10000, "currency": "BRL"}, None),
    ({"amount_cents": 10000, "currency": "brl"}, None),
    ({"amount_cents": 1, "currency": "BRL"}, "underpaid"),
    ({"amount_cents": 9999, "currency": "BRL"}, "underpaid"),
    ({"amount_cents": 10001, "currency": "BRL"}, "amount_mismatch"),
    ({"amount_cents": 12000, "currency": "BRL", "accepts_overpayment": True}, None),  # Pagar.me charge.overpaid
    ({"amount_cents": 10000, "currency": "USD"}, "currency_mismatch"),
    ({"amount_cents": 10000}, "currency_missing"),
    ({"currency": "BRL"}, "amount_missing"),
    ({"amount_cents": "10000", "currency": "BRL"}, "amount_missing"),  # strict integers only
    ({"amount_cents": True, "currency": "BRL"}, "amount_missing"),
    ({"amount_cents": 10000.0, "currency": "BRL"}, "amount_missing"),
])
def test_payment_problem(data, problem):
    assert crediting().payment_problem(ORDER, data) == problem


def test_a_wrong_payment_goes_to_review_and_credits_nothing():
    module = crediting()
    plan = module.with_money_checks(module.transition("pending", "confirmed"), "pending", ORDER,
                                    {"amount_cents": 1, "currency": "BRL"})
    assert (plan.status, plan.credit, plan.review) == ("review", False, "underpaid")
    # the same wrong amount again changes nothing; the right amount later credits
    again = module.with_money_checks(module.transition("review", "confirmed"), "review", ORDER,
                                     {"amount_cents": 1, "currency": "BRL"})
    assert again.noop
    settled = module.with_money_checks(module.transition("review", "confirmed"), "review", ORDER,
                                       {"amount_cents": 10000, "currency": "BRL"})
    assert (settled.status, settled.credit) == ("paid", True)


@pytest.mark.parametrize(("refunded", "share"), [(3000, 30), (1, 1), (9999, 100), (10000, 100), (20000, 100),
                                                 (0, 0), (4950, 50)])
def test_refunded_share_is_proportional_and_rounded_up(refunded, share):
    assert crediting().refunded_share(ORDER, refunded) == share


def test_partial_refunds_reverse_only_what_is_new():
    module = crediting()
    plan = module.with_money_checks(module.transition("paid", "refunded", partial=True), "paid", ORDER,
                                    {"refunded_cents": 3000, "partial": True})
    assert (plan.status, plan.reversal, plan.partial) == ("partially_refunded", "refund", True)
    already = {**ORDER, "reversed_credits": 30}
    late = module.with_money_checks(module.transition("partially_refunded", "refunded", partial=True),
                                    "partially_refunded", already, {"refunded_cents": 2000, "partial": True})
    assert late.noop  # an older, smaller total arriving late
    whole = module.with_money_checks(module.transition("partially_refunded", "refunded", partial=True),
                                     "partially_refunded", already, {"refunded_cents": 10000, "partial": True})
    assert (whole.status, whole.partial) == ("refunded", False)
    unknown = module.with_money_checks(module.transition("paid", "refunded", partial=True), "paid", ORDER,
                                       {"partial": True})
    assert (unknown.status, unknown.review) == ("review", "refund_amount_missing")


@pytest.mark.parametrize(("status", "kind", "partial", "expected"), [
    ("pending", "refunded", True, ("review", False, None)),  # a share refunded of an unconfirmed payment
    ("review", "refunded", False, ("refunded", False, None)),  # nothing was credited: nothing to take back
    ("review", "refunded", True, (None, False, None)),
    ("review", "chargeback", False, ("chargeback", False, None)),
    ("review", "failed", False, (None, False, None)),
    ("partially_refunded", "confirmed", False, (None, False, None)),
    ("partially_refunded", "chargeback", False, ("chargeback", False, "chargeback")),
    ("partially_refunded", "refunded", False, ("refunded", False, "refund")),
])
def test_transition_with_review_and_partial_refunds(status, kind, partial, expected):
    plan = crediting().transition(status, kind, partial=partial)
    assert (plan.status, plan.credit, plan.reversal) == expected
