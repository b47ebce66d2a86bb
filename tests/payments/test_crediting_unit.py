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
