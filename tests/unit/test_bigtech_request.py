"""Request: proper query decoding, lazy JSON, identity headers, tolerant of runner quirks."""

import pytest
from pydantic import BaseModel

from bigtech.errors import BadRequest, Unprocessable
from bigtech.http import Request
from tests.support.fake_context import make_context


def test_query_is_decoded_unlike_the_runtime_naive_split():
    context = make_context(query_string="q=caf%C3%A9+au+lait&tag=a&tag=b&empty=")
    assert context.req.query["q"] == "caf%C3%A9+au+lait"  # what the runtime gives
    request = Request(context)
    assert request.query["q"] == "café au lait"
    assert request.query_list("tag") == ["a", "b"]
    assert request.query["tag"] == "a"
    assert request.query["empty"] == ""


def test_query_model_validates_into_422():
    class Page(BaseModel):
        limit: int = 25

    assert Request(make_context(query_string="limit=5")).query_model(Page).limit == 5
    with pytest.raises(Unprocessable) as error:
        Request(make_context(query_string="limit=lots")).query_model(Page)
    assert error.value.details[0]["field"] == "limit"


def test_headers_are_lowercased_and_identity_helpers():
    request = Request(
        make_context(headers={"X-Appwrite-User-Id": "u1", "x-appwrite-user-jwt": "jwt", "x-appwrite-trigger": "event"})
    )
    assert request.header("X-APPWRITE-USER-ID") == "u1"
    assert (request.user_id, request.user_jwt, request.trigger) == ("u1", "jwt", "event")
    assert Request(make_context()).user_id is None
    assert Request(make_context()).trigger == "http"


def test_json_body_empty_malformed_and_not_utf8():
    assert Request(make_context(body=b"")).json() is None
    assert Request(make_context(body={"a": 1})).json() == {"a": 1}
    with pytest.raises(BadRequest) as error:
        Request(make_context(body=b"[1,")).json()
    assert error.value.code == "invalid_json"
    with pytest.raises(BadRequest):
        Request(make_context(body=b"\xff\xfe")).json()


def test_model_of_a_non_object_body_is_422():
    class Thing(BaseModel):
        name: str

    with pytest.raises(Unprocessable):
        Request(make_context(body=[1, 2])).model(Thing)


def test_method_is_uppercased_and_query_left_on_the_path_is_split_off():
    context = make_context(method="get", path="/orders?limit=3")
    request = Request(context)
    assert (request.method, request.path, request.query) == ("GET", "/orders", {"limit": "3"})


def test_body_given_as_str_by_a_runner_still_parses():
    context = make_context()
    context.req.body_binary = '{"a": 2}'
    assert Request(context).json() == {"a": 2}


def test_request_log_masks_documents():
    context = make_context()
    Request(context).log.log("looked up 12345678909")
    assert context.logs == ["looked up ***.456.789-**"]
