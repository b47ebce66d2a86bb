"""The error hierarchy: statuses, default codes, and the body every error response carries."""

import pytest

from bigtech import errors
from bigtech.errors import BigtechError, NotFound, Unprocessable

EXPECTED = {
    errors.BadRequest: (400, "bad_request"),
    errors.Unauthorized: (401, "unauthorized"),
    errors.PaymentRequired: (402, "insufficient_credits"),
    errors.Forbidden: (403, "forbidden"),
    errors.NotFound: (404, "not_found"),
    errors.MethodNotAllowed: (405, "method_not_allowed"),
    errors.Conflict: (409, "conflict"),
    errors.Unprocessable: (422, "validation_failed"),
    errors.PayloadTooLarge: (413, "payload_too_large"),
    errors.TooManyRequests: (429, "rate_limited"),
    errors.UpstreamError: (502, "upstream_error"),
    errors.UpstreamIncompatible: (502, "upstream_incompatible"),
}


@pytest.mark.parametrize(("cls", "expected"), EXPECTED.items())
def test_each_error_has_its_status_and_default_code(cls, expected):
    error = cls()
    assert issubclass(cls, BigtechError)
    assert (error.status, error.code) == expected
    assert error.message


def test_every_error_class_is_listed_in_the_module_docstring():
    for cls in EXPECTED:
        assert cls.__name__ in errors.__doc__


def test_body_shape_with_specific_code_and_details():
    error = NotFound("Order not found.", code="order_not_found", details={"order_id": "o1"})
    assert error.to_body() == {
        "error": {"code": "order_not_found", "message": "Order not found.",
                  "details": [{"field": "order_id", "message": "order_id: o1", "value": "o1"}]}
    }
    assert str(error) == "Order not found."


def test_field_shortcut_gives_field_level_details():
    error = Unprocessable.field("email", "Not a valid email.")
    assert error.status == 422
    assert error.details == [{"field": "email", "message": "Not a valid email."}]
