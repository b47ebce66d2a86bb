"""Request: proper query decoding, lazy JSON, identity headers, tolerant of runner quirks."""

import pytest
from pydantic import BaseModel, Field

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


def test_query_model_validates_into_400_for_a_wrong_type_and_422_for_a_bad_value():
    class Page(BaseModel):
        limit: int = Field(25, ge=1)

    assert Request(make_context(query_string="limit=5")).query_model(Page).limit == 5
    with pytest.raises(BadRequest) as malformed:  # not a number at all
        Request(make_context(query_string="limit=lots")).query_model(Page)
    assert malformed.value.code == "invalid_type" and malformed.value.details[0]["field"] == "limit"
    with pytest.raises(Unprocessable) as error:  # a number, out of range
        Request(make_context(query_string="limit=0")).query_model(Page)
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


def test_model_of_a_non_object_body_is_400_and_bad_fields_422():
    class Thing(BaseModel):
        name: str

    with pytest.raises(BadRequest) as malformed:  # JSON, but not an object: it cannot be read as one
        Request(make_context(body=[1, 2])).model(Thing)
    assert malformed.value.code == "invalid_body"
    with pytest.raises(BadRequest):  # a field of the wrong type: malformed too
        Request(make_context(body={"name": 1})).model(Thing)
    with pytest.raises(Unprocessable):  # a missing field: invalid
        Request(make_context(body={})).model(Thing)


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


# -- input limits (issue 9, finding 7) -----------------------------------------------------------------

def _json_error(body: bytes) -> tuple[int, str]:
    with pytest.raises(Exception) as error:
        Request(make_context(body=body)).json()
    return error.value.status, error.value.code


def test_json_deeper_than_the_limit_is_400_before_json_loads_recurses():
    from bigtech.http.limits import MAX_JSON_DEPTH

    ok = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert Request(make_context(body=ok)).json() is not None
    too_deep = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    assert _json_error(too_deep) == (400, "invalid_json")
    assert _json_error(b"[" * 100_000 + b"]" * 100_000) == (400, "invalid_json")
    assert _json_error(b'{"a":' * 40_000 + b"1" + b"}" * 40_000) == (400, "invalid_json")


def test_brackets_inside_strings_do_not_count_as_depth():
    body = b'{"text": "' + b"[{" * 50_000 + b'\\"]"}'
    assert Request(make_context(body=body)).json()["text"].startswith("[{")


def test_a_body_over_256_kib_is_413():
    from bigtech.http.limits import MAX_BODY_BYTES

    assert _json_error(b'"' + b"a" * MAX_BODY_BYTES + b'"') == (413, "payload_too_large")


def test_lone_surrogates_nan_and_huge_numbers_are_400_but_pairs_are_fine():
    assert _json_error(b'{"name": "\\ud800"}') == (400, "invalid_json")
    assert _json_error(b'{"\\udfff": 1}') == (400, "invalid_json")
    assert _json_error(b'{"n": NaN}') == (400, "invalid_json")
    assert _json_error(b'{"n": -Infinity}') == (400, "invalid_json")
    assert _json_error(b'{"n": ' + b"9" * 5000 + b"}") == (400, "invalid_json")
    assert Request(make_context(body=b'{"e": "\\ud83d\\ude00"}')).json() == {"e": "\U0001F600"}
    assert Request(make_context(body=b'{"e": "\\\\ud800"}')).json() == {"e": "\\ud800"}  # escaped: plain text


def test_query_strings_too_long_or_with_too_many_fields_are_400():
    with pytest.raises(BadRequest) as error:
        Request(make_context(query_string="q=" + "a" * 9000))
    assert error.value.code == "invalid_query"
    with pytest.raises(BadRequest):
        Request(make_context(query_string="&".join(f"k{i}=v" for i in range(101))))
    assert Request(make_context(query_string="&".join(f"k{i}=v" for i in range(100)))).query["k99"] == "v"
