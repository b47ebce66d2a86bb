"""Volume tiers: a key's consultas are priced by its monthly volume band; the charged price and the band
are recorded on the consulta and in usage; a replay is not priced again."""

from __future__ import annotations

import pytest

from tests.mercado.test_atacado_public import BODY, api, new_key

BANDS = [{"name": "base", "from": 0, "prices": {"cadastral": 90}},
         {"name": "volume", "from": 2, "prices": {"cadastral": 60}}]


@pytest.mark.slow
def test_price_follows_the_monthly_volume_band(stack, market):
    owner = market.other_owner  # its own tenant: the bands do not reprice the other tests' consultas
    configured = owner.call("plugins", "PUT", "/mercado-atacado", {"config": {"volume_bands": BANDS}})
    assert configured.status == 200, configured
    try:
        _, secret = new_key(owner)
        start = api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"]
        answers = [api(stack, secret, "POST", "/v1/consultas", json=BODY, headers={"idempotency-key": f"t{n}"})
                   for n in range(3)]
        assert [a.status_code for a in answers] == [201, 201, 201], [a.text for a in answers]
        assert [a.json()["consulta"]["cost_credits"] for a in answers] == [90, 90, 60]
        replay = api(stack, secret, "POST", "/v1/consultas", json=BODY, headers={"idempotency-key": "t0"})
        assert replay.json()["consulta"]["cost_credits"] == 90 and replay.headers.get("idempotent-replayed") == "true"
        assert api(stack, secret, "GET", "/v1/balance").json()["balance"]["balance"] == start - 240
        read = [api(stack, secret, "GET", f"/v1/consultas/{a.json()['consulta']['id']}").json() for a in answers]
        tiers = [one["consulta"]["price_tier"] for one in read]
        assert tiers == ["base", "base", "volume"]
        usage = api(stack, secret, "GET", "/v1/usage").json()["usage"]
        assert usage["totals"] == {"count": 3, "credits": 240}
        assert usage["rows"][0]["tiers"] == ["base", "volume"]
    finally:
        assert owner.call("plugins", "PUT", "/mercado-atacado", {"config": {}}).status == 200


def test_bands_are_validated_by_the_manifest(stack, market):
    bad = market.other_owner.call("plugins", "PUT", "/mercado-atacado",
                                  {"config": {"volume_bands": [{"name": "x", "from": -1, "prices": {}}]}})
    assert bad.status == 422, bad
