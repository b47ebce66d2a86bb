"""On the stack: a function serves its committed document at GET /openapi.json without any Bigtech
identity, and health serves the error catalogue at GET /errors to anyone."""

from __future__ import annotations

import json

import openapi_docs

from bigtech import error_codes
from tests.support.actors import call, create_user


def committed(function_id: str) -> dict:
    return json.loads((openapi_docs.OUT / f"{function_id}.json").read_text())


def test_a_signed_in_user_with_no_tenant_reads_a_function_document(stack):
    """auth's gate would refuse nothing here anyway; members' refuses a user of no tenant everywhere else."""
    stranger = create_user(stack)
    refused = call(stack, stranger.jwt, "members", "GET", "/")
    assert refused.status == 403, refused
    served = call(stack, stranger.jwt, "members", "GET", "/openapi.json")
    assert served.status == 200, served
    assert served.body == committed("members")


def test_a_plugin_serves_its_document_without_cores_token(stack):
    served = call(stack, None, "fonte-sandbox", "GET", "/openapi.json")
    assert served.status == 200, served
    assert served.body == committed("fonte-sandbox")
    assert call(stack, None, "fonte-sandbox", "POST", "/execute", {}).error_code == "core_only"


def test_health_serves_the_error_catalogue_to_anyone(stack):
    served = call(stack, None, "health", "GET", "/errors")
    assert served.status == 200, served
    assert served.body["items"] == error_codes.catalogue_json()
