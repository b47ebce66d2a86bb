"""Router + serve: routing, actions, and the error mapping every function shares."""

import pytest
from pydantic import BaseModel

from bigtech.errors import Conflict
from bigtech.http import Request, Response, Router, created, serve, text_response
from tests.support.fake_context import call


class Item(BaseModel):
    sku: str
    quantity: int


def build_router() -> Router:
    router = Router()

    @router.route("GET", "/orders", action="orders.list")
    def list_orders(request: Request):
        return {"items": [], "limit": request.query.get("limit")}

    @router.route("GET", "/orders/{order_id}", action="orders.read")
    def read_order(request: Request, order_id: str):
        return {"id": order_id, "type": type(order_id).__name__}

    @router.route("GET", "/orders/summary", action="orders.summary")
    def summary(request: Request):
        return {"summary": True}

    @router.route("POST", "/orders", action="orders.create")
    def create_order(request: Request):
        return created(request.model(Item))

    @router.route("DELETE", "/orders/{order_id}", action="orders.delete")
    def delete_order(request: Request, order_id: str):
        return None

    @router.route("POST", "/conflict", action="orders.conflict")
    def conflict(request: Request):
        raise Conflict("Already there.", code="order_exists", details={"id": "o1"})

    @router.route("POST", "/validate-inside", action="orders.validate")
    def validate_inside(request: Request):
        Item.model_validate({"sku": 1})

    @router.route("GET", "/boom", action="orders.boom")
    def boom(request: Request):
        raise RuntimeError("secret internals for CPF 123.456.789-09")

    @router.route("GET", "/export", action="orders.export")
    def export(request: Request):
        return text_response("a,b\n1,2\n", content_type="text/csv")

    @router.route("GET", "/custom", action="orders.custom")
    def custom(request: Request):
        return Response(202, {"accepted": True}, {"X-Request-Id": "r1"})

    return router


main = serve(build_router())


def test_get_with_path_param_as_str():
    answer = call(main, "GET", "/orders/o-42")
    assert answer.status == 200
    assert answer.json == {"id": "o-42", "type": "str"}
    assert answer.headers["content-type"] == "application/json"


def test_static_segment_beats_placeholder_regardless_of_declaration_order():
    assert call(main, "GET", "/orders/summary").json == {"summary": True}


def test_trailing_slash_is_ignored():
    assert call(main, "GET", "/orders/").status == 200


def test_query_is_url_decoded():
    assert call(main, "GET", "/orders", query_string="limit=a%20b").json["limit"] == "a b"


def test_post_model_and_created():
    answer = call(main, "POST", "/orders", body={"sku": "x", "quantity": 2})
    assert answer.status == 201
    assert answer.json == {"sku": "x", "quantity": 2}


def test_a_field_of_the_wrong_type_is_400_with_field_details():
    answer = call(main, "POST", "/orders", body={"sku": "x", "quantity": "many"})
    assert answer.status == 400
    error = answer.json["error"]
    assert error["code"] == "invalid_type"
    assert error["details"][0]["field"] == "quantity"
    assert error["details"][0]["message"]


def test_missing_fields_on_empty_body_are_422():
    answer = call(main, "POST", "/orders")
    assert answer.status == 422
    assert {d["field"] for d in answer.json["error"]["details"]} == {"sku", "quantity"}


def test_malformed_json_is_400_invalid_json():
    answer = call(main, "POST", "/orders", body=b"{not json")
    assert answer.status == 400
    assert answer.json["error"]["code"] == "invalid_json"


def test_validation_error_escaping_a_handler_is_a_4xx_with_field_details():
    answer = call(main, "POST", "/validate-inside")
    assert answer.status == 400 and answer.json["error"]["code"] == "invalid_type"  # {"sku": 1}: wrong type
    assert answer.json["error"]["details"][0]["field"] == "sku"


def test_bigtech_error_maps_to_its_status_and_body():
    answer = call(main, "POST", "/conflict")
    assert answer.status == 409
    assert answer.json == {"error": {"code": "order_exists", "message": "Already there.",
                                     "details": [{"field": "id", "message": "id: o1", "value": "o1"}]}}


def test_unknown_route_is_404_route_not_found():
    answer = call(main, "GET", "/nope")
    assert answer.status == 404
    assert answer.json["error"]["code"] == "route_not_found"


def test_wrong_method_is_405_with_allow_header():
    answer = call(main, "PUT", "/orders/o1")
    assert answer.status == 405
    assert answer.json["error"]["code"] == "method_not_allowed"
    assert answer.headers["allow"] == "DELETE, GET"


def test_unhandled_exception_is_a_bare_500_and_a_masked_traceback_in_the_log():
    answer = call(main, "GET", "/boom")
    assert answer.status == 500
    assert answer.json == {"error": {"code": "internal_error", "message": "Internal error.", "details": []}}
    assert b"secret" not in answer.body
    logged = "\n".join(answer.context.errors)
    assert "Traceback" in logged and "RuntimeError" in logged
    assert "123.456.789-09" not in logged and "***.456.789-**" in logged


def test_none_is_204_and_text_and_custom_responses():
    assert call(main, "DELETE", "/orders/o1").status == 204
    export = call(main, "GET", "/export")
    assert (export.status, export.body, export.headers["content-type"]) == (200, b"a,b\n1,2\n", "text/csv")
    custom = call(main, "GET", "/custom")
    assert (custom.status, custom.json, custom.headers["x-request-id"]) == (202, {"accepted": True}, "r1")


def test_routes_list_every_action():
    router = build_router()
    assert ("GET", "/orders/{order_id}", "orders.read") in router.actions()
    assert all(route.action for route in router.routes)
    # serve adds GET /openapi.json to every router (bigtech.openapi)
    assert main.router.actions() == [*router.actions(), ("GET", "/openapi.json", "openapi.read")]


def test_action_is_mandatory_and_well_formed():
    router = Router()
    with pytest.raises(TypeError):
        router.route("GET", "/")  # type: ignore[call-arg]
    for bad in ("", "read", "Orders.Read", None):
        with pytest.raises(ValueError, match="action"):
            router.add("GET", "/", lambda request: None, action=bad)  # type: ignore[arg-type]


def test_duplicate_routes_are_rejected():
    router = Router()
    router.add("GET", "/orders/{order_id}", lambda request, order_id: None, action="orders.read")
    with pytest.raises(ValueError, match="Duplicate"):
        router.add("GET", "/orders/{id}/", lambda request, id: None, action="orders.read")


def test_include_mounts_under_a_prefix():
    inner = Router()
    inner.add("GET", "/{order_id}", lambda request, order_id: {"id": order_id}, action="orders.read")
    outer = Router()
    outer.include(inner, prefix="/orders")
    assert call(serve(outer), "GET", "/orders/o7").json == {"id": "o7"}


def test_before_hooks_see_the_route_action_and_can_refuse():
    from bigtech.errors import Forbidden

    seen = []

    def guard(request, route):
        seen.append((route.action, request.route.action))
        if route.action == "orders.delete":
            raise Forbidden()

    guarded = serve(build_router(), before=[guard])
    assert call(guarded, "GET", "/orders/o1").status == 200
    assert call(guarded, "DELETE", "/orders/o1").status == 403
    assert seen == [("orders.read", "orders.read"), ("orders.delete", "orders.delete")]


# -- hostile input and upstream failures never become a 500 (issue 9 finding 7, issue 10) --------------

def hostile_router() -> Router:
    from appwrite.exception import AppwriteException
    from appwrite.models import Row

    router = Router()

    @router.route("GET", "/items/{item_id}", action="items.read")
    def read(request: Request, item_id: str):
        return {"id": item_id}

    @router.route("POST", "/items", action="items.create")
    def create(request: Request):
        return created(request.model(Item))

    @router.route("GET", "/appwrite/{status}", action="appwrite.fail")
    def appwrite_fails(request: Request, status: str):
        kinds = {"400": "general_argument_invalid", "404": "row_not_found", "4040": "database_not_found"}
        raise AppwriteException("refused", int(status[:3]), kinds.get(status, "general_unknown"))

    @router.route("GET", "/old-server", action="appwrite.old")
    def old_server(request: Request):
        # what SDK 27 does with an Appwrite 1.8 row ($sequence is an integer there)
        return Row.with_data({"$id": "r1", "$sequence": 1, "$tableId": "t", "$databaseId": "d",
                              "$createdAt": "x", "$updatedAt": "x", "$permissions": []})

    @router.route("GET", "/wrapped", action="appwrite.wrapped")
    def wrapped(request: Request):
        raise AppwriteException("Unable to parse response into Row: 1 validation error")

    @router.route("GET", "/recursion", action="items.recurse")
    def recurse(request: Request):
        raise RecursionError("maximum recursion depth exceeded")

    return router


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/items/..", 404, "not_found"),
    ("/items/%2F..%2Fsecrets", 404, "not_found"),
    ("/items/" + "a" * 65, 404, "not_found"),
    ("/items/\u00e9t\u00e9", 404, "not_found"),
    ("/items/ok-id_1.2", 200, None),
    ("/" + "x/" * 600, 404, "route_not_found"),
    ("/appwrite/400", 400, "invalid_request"),
    ("/appwrite/404", 404, "not_found"),
    ("/appwrite/4040", 502, "upstream_error"),
    ("/appwrite/409", 409, "conflict"),
    ("/appwrite/429", 429, "rate_limited"),
    ("/appwrite/401", 502, "upstream_error"),
    ("/appwrite/503", 502, "upstream_error"),
    ("/old-server", 502, "upstream_incompatible"),
    ("/wrapped", 502, "upstream_incompatible"),
    ("/recursion", 400, "invalid_json"),
])
def test_hostile_paths_and_upstream_failures_map_to_clear_statuses(path, status, code):
    answer = call(serve(hostile_router()), "GET", path)
    assert answer.status == status, answer.json
    if code:
        assert answer.json["error"]["code"] == code


def test_request_validation_stays_422_but_deep_or_huge_bodies_are_400_and_413():
    main = serve(hostile_router())
    assert call(main, "POST", "/items", body={"sku": 1}).status == 400  # wrong type: invalid_type
    assert call(main, "POST", "/items", body={}).status == 422
    assert call(main, "POST", "/items", body=b"[" * 100_000).json["error"]["code"] == "invalid_json"
    huge = call(main, "POST", "/items", body=b"{" + b" " * (300 * 1024) + b"}")
    assert huge.status == 413 and huge.json["error"]["code"] == "payload_too_large"
