"""mercado-varejo: the tenant's catalogue prices the next consultas (not a replay of an earlier one),
a disabled catalogue falls back to the platform's prices, bounds are enforced, members see the price list."""

from __future__ import annotations

import pytest

from bigtech.errors import detail_values
from tests.mercado.test_atacado_public import BODY
from tests.support.actors import add_member, create_tenant, tenant_id_for

FN = "mercado-varejo"


@pytest.fixture(scope="module")
def shop(stack, market):
    _, owner = create_tenant(stack, market.admin, tenant_id_for("vj"))
    assert owner.call("billing", "POST", "/grants",
                      {"user_id": owner.user_id, "credits": 10_000, "reason": "tests"}).status == 201
    return owner, add_member(owner, "viewer")


def configure(owner, config, enabled=True):
    result = owner.call("plugins", "PUT", f"/{FN}", {"enabled": enabled, "config": config})
    assert result.status == 200, result
    return result


def consulta(owner, key, **fields):
    result = owner.call("consultas", "POST", "/", {**BODY, **fields},
                        headers={"idempotency-key": key}).unwrapped("consulta")
    assert result.status == 201, result
    return result


@pytest.mark.slow
def test_a_price_change_applies_to_the_next_consulta_not_to_a_replay(stack, shop):
    owner, _ = shop
    configure(owner, {"prices": {"cadastral": 150}})
    first = consulta(owner, "v1")
    assert first.body["cost_credits"] == 150
    configure(owner, {"prices": {"cadastral": 120}})
    assert consulta(owner, "v2").body["cost_credits"] == 120
    replay = consulta(owner, "v1")
    assert replay.headers.get("idempotent-replayed") == "true" and replay.body["cost_credits"] == 150
    configure(owner, {"prices": {"cadastral": 120}}, enabled=False)  # catalogue off: the platform's price
    assert consulta(owner, "v3").body["cost_credits"] == 100


def test_catalogue_bounds_are_enforced_and_change_nothing(stack, shop):
    owner, _ = shop
    for config in ({"prices": {"cadastral": 1}}, {"prices": {"cadastral": 10**9}},
                   {"packages": [{"id": "p", "credits": 10, "price_cents": 500}]},
                   {"prices": {"imoveis": 100}}):
        result = owner.call("plugins", "PUT", f"/{FN}", {"enabled": True, "config": config})
        assert result.status == 422, (config, result)


def test_members_read_the_price_list(stack, shop):
    owner, viewer = shop
    configure(owner, {"prices": {"credito": 200},
                      "products": [{"id": "pf-completo", "category": "cadastral", "name": "PF completo", "price": 250}],
                      "packages": [{"id": "p100", "credits": 1000, "bonus_credits": 100, "price_cents": 9000},
                                   {"id": "old", "credits": 1000, "price_cents": 9000,
                                    "active_until": "2020-01-01T00:00:00Z"}]})
    listed = viewer.call(FN, "GET", "/prices").unwrapped("price_list")
    assert listed.status == 200, listed
    assert listed.body["source"] == "mercado-varejo"
    assert listed.body["price_credits_by_category"] == {"credito": 200, "cadastral": 100, "veicular": 300}
    assert [p["id"] for p in listed.body["packages"]] == ["p100"]
    assert listed.body["products"][0]["price_credits"] == 250
    # orders sell the catalogue's packages (credits include the bonus); expired ones are not offered
    offered = viewer.call("billing", "GET", "/packages")
    assert offered.status == 200, offered
    assert [(p["id"], p["credits"], p["bonus_credits"]) for p in offered.body["catalogue"]["packages"]] == [
        ("p100", 1100, 100)]


def test_a_member_over_their_monthly_limit_is_refused_with_nothing_charged(stack, shop):
    owner, _ = shop
    analyst = add_member(owner, "analyst")
    assert owner.call("billing", "POST", "/grants",
                      {"user_id": analyst.user_id, "credits": 1000, "reason": "tests"}).status == 201
    configure(owner, {"monthly_limits": {"default": 10_000, "members": {analyst.user_id: 250}}})
    try:
        assert [consulta(analyst, f"m{n}").body["cost_credits"] for n in range(2)] == [100, 100]
        before = analyst.call("billing", "GET", "/wallet").body
        refused = analyst.call("consultas", "POST", "/", BODY, headers={"idempotency-key": "m2"})
        assert refused.status == 402 and refused.error_code == "monthly_limit_reached", refused
        limit = detail_values(refused.body)
        assert limit == {"limit": 250, "price": 100, "month": limit["month"]}
        assert analyst.call("billing", "GET", "/wallet").body == before
        shown = analyst.call("auth", "GET", "/me").body["spending_limit"]
        assert shown["limit"] == 250 and shown["spent"] == 200 and shown["remaining"] == 50
        # the owner, under the default limit, goes on
        assert consulta(owner, "m-owner").status == 201
    finally:
        configure(owner, {}, enabled=False)


PF = [{"id": "pf-basico", "category": "cadastral", "name": "PF básico", "price": 120},
      {"id": "pf-completo", "category": "cadastral", "name": "PF completo", "price": 250}]


def test_each_product_is_charged_the_price_its_catalogue_shows(stack, shop):
    owner, viewer = shop
    configure(owner, {"prices": {"cadastral": 90}, "products": PF})
    try:
        shown = {p["id"]: p["price_credits"]
                 for p in viewer.call(FN, "GET", "/prices").unwrapped("price_list").body["products"]}
        basico, completo = consulta(owner, "p1", product="pf-basico"), consulta(owner, "p2", product="pf-completo")
        charged = (basico.body["cost_credits"], completo.body["cost_credits"])
        assert charged == (shown["pf-basico"], shown["pf-completo"]) == (120, 250)
        assert consulta(owner, "p3").body["cost_credits"] == 90  # no product: the category's price
        before = owner.call("billing", "GET", "/wallet").body
        for product in ("pf-nenhum", "veiculo-x"):
            refused = owner.call("consultas", "POST", "/", {**BODY, "product": product})
            assert refused.status == 422 and refused.error_code == "product_not_offered", refused
        wrong_category = owner.call("consultas", "POST", "/", {**BODY, "category": "veicular", "document": None,
                                                               "plate": "ABC1234", "product": "pf-basico"})
        assert wrong_category.status == 422 and wrong_category.error_code == "product_not_offered"
        assert owner.call("billing", "GET", "/wallet").body == before
        # a price change: the next consulta pays it, a replay of the earlier one keeps what it was charged
        configure(owner, {"prices": {"cadastral": 90}, "products": [PF[0], {**PF[1], "price": 300}]})
        assert consulta(owner, "p4", product="pf-completo").body["cost_credits"] == 300
        replay = consulta(owner, "p2", product="pf-completo")
        assert replay.headers.get("idempotent-replayed") == "true" and replay.body["cost_credits"] == 250
        # the same key with another product is another request, not a replay
        other = owner.call("consultas", "POST", "/", {**BODY, "product": "pf-basico"},
                           headers={"idempotency-key": "p2"})
        assert other.status == 422 and other.error_code == "idempotency_key_reused", other
    finally:
        configure(owner, {}, enabled=False)
    refused = owner.call("consultas", "POST", "/", {**BODY, "product": "pf-basico"})  # no catalogue: no products
    assert refused.status == 422 and refused.error_code == "product_not_offered"


def _bounds(admin, **changes):
    result = admin.call("tenants", "PATCH", "/settings", {"catalogue": changes})
    assert result.status == 200, result
    return result.body["settings"]["catalogue"]


def test_catalogue_bounds_come_from_the_platform_settings(stack, market, shop):
    owner, _ = shop
    admin = market.admin
    defaults = admin.call("tenants", "GET", "/settings").body["settings"]["catalogue"]
    assert (defaults["min_price"], defaults["max_price"], defaults["max_products"]) == (10, 100_000, 50)
    cheap = {"prices": {"cadastral": 5}, "products": [{**PF[0], "price": 5}]}
    refused = owner.call("plugins", "PUT", f"/{FN}", {"enabled": True, "config": cheap})
    assert refused.status == 422 and refused.error_code == "catalogue_out_of_bounds", refused
    assert {d["field"] for d in refused.body["error"]["details"]} == {"config.prices.cadastral",
                                                                      "config.products[0].price"}
    assert owner.call(FN, "GET", "/prices").unwrapped("price_list").body["source"] == "platform"  # nothing changed
    assert owner.call("tenants", "PATCH", "/settings", {"catalogue": {"min_price": 1}}).status == 403
    try:
        assert _bounds(admin, min_price=5)["min_price"] == 5
        configure(owner, cheap)  # the admin lowered the floor: the same catalogue is accepted
        _bounds(admin, max_products=1)
        two = owner.call("plugins", "PUT", f"/{FN}", {"enabled": True, "config": {"products": PF}})
        assert two.status == 422 and two.body["error"]["details"] == [
            {"field": "config.products", "message": "at most 1 products (platform bounds)"}]
        duplicate = owner.call("plugins", "PUT", f"/{FN}", {"enabled": True, "config": {"products": [PF[0], PF[0]]}})
        assert duplicate.status == 422
        bad = admin.call("tenants", "PATCH", "/settings", {"catalogue": {"min_price": 500, "max_price": 100}})
        assert bad.status == 422 and bad.body["error"]["details"][0]["field"] == "catalogue", bad
        assert admin.call("tenants", "PATCH", "/settings", {"catalogue": {"nope": 1}}).status == 422
    finally:
        _bounds(admin, **defaults)
        configure(owner, {}, enabled=False)
