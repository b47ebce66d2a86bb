"""The ``scripts/dev`` demo: a tenant buys a package through the sandbox gateway and runs a consulta."""

from __future__ import annotations

import pytest
from dev_seed import client_for, purchase_demo
from dev_seed.settings import SeedSettings

from tests.support.actors import ensure_core

from . import stack_support  # noqa: F401 - sets the secrets key the stack's functions use


@pytest.mark.slow
def test_demo_purchase_and_consulta(stack):
    ensure_core(stack)  # what scripts/dev's bootstrap does before seeding (the test may run first)
    settings = SeedSettings.from_stack(stack.settings)
    client = client_for(settings)
    lines = purchase_demo.seed(client, settings)
    text = "\n".join(lines)
    assert "pagamento-sandbox): paid" in text, text
    assert "succeeded" in text and "balance 0" in text, text  # 100 bought, 100 spent on a cadastral consulta
    again = "\n".join(purchase_demo.seed(client, settings))  # idempotent on the next start
    assert "paid" in again and "balance 0" in again, again
