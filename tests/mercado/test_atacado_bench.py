"""Benchmark: the Appwrite calls key authentication and rate limiting add to a public-API consulta.

Counted with a stack observer (every API call made with mercado-atacado's execution key), by table.
Printed with ``-s``; the numbers are in docs/mercado.md.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime

import pytest

from tests.mercado.test_atacado_public import BODY, api, new_key

FN = "mercado-atacado"
GATE_TABLES = ("api_keys", "rate_limits")


class Calls:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_route: Counter[str] = Counter()

    def observe(self, request, route, response) -> None:
        caller = getattr(request, "caller", None)
        if caller is None or getattr(caller, "kind", "") != "ephemeral" or caller.function_id != FN:
            return
        parts = request.path.split("/")
        at = parts.index("tables") + 1 if "tables" in parts else len(parts)
        table = parts[at] if at < len(parts) else "-"
        with self.lock:
            self.by_route[f"{request.method} {table}"] += 1

    def gate(self) -> int:
        return sum(n for key, n in self.by_route.items() if key.split(" ")[1] in GATE_TABLES)


@pytest.mark.slow
def test_calls_added_by_key_auth_and_rate_limits(stack, market):
    _, secret = new_key(market.owner)
    if datetime.now(UTC).second > 50:
        time.sleep(61 - datetime.now(UTC).second)
    assert api(stack, secret, "GET", "/v1/balance").status_code == 200  # first of the minute: rows created
    calls = Calls()
    stack.dispatcher.observers.append(calls.observe)
    try:
        samples = 5
        for n in range(samples):
            response = api(stack, secret, "POST", "/v1/consultas", json=BODY, headers={"idempotency-key": f"b{n}"})
            assert response.status_code == 201, response.text
    finally:
        stack.dispatcher.observers.remove(calls.observe)
    per_consulta = calls.gate() / samples
    total = sum(calls.by_route.values()) / samples
    print(f"\nmercado-atacado: {per_consulta:.1f} Appwrite calls per public consulta for key auth + rate limits "
          f"(of {total:.1f} made by the function); by route: {dict(calls.by_route)}")
    # steady state: 1 increment on the key's row (reads the key, counts its minute) + 1 for the day
    assert per_consulta <= 2
