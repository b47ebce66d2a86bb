"""The local stack's own API answers hostile input with a 4xx, never a 500 or a dropped connection
(issue 9, finding 7): a lone surrogate in JSON, JSON nested 100,000 deep, huge and too many headers,
a nonsense content-length, and PHP-style query keys nested past the recursion limit."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest


def raw_request(stack, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None):
    """One request over a fresh connection; returns (status, parsed body). A dropped connection fails."""
    url = urlsplit(stack.endpoint)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    sent = {"x-appwrite-project": stack.settings.project_id, "x-appwrite-key": stack.settings.api_key,
            "content-type": "application/json", **(headers or {})}
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        for name, value in sent.items():
            connection.putheader(name, value)
        if "content-length" not in {k.lower() for k in sent}:
            connection.putheader("content-length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data.startswith(b"{") else data)
    finally:
        connection.close()


EXECUTIONS = "/v1/functions/health/executions"

HOSTILE_BODIES = {
    "lone surrogate": b'{"body": "\\ud800", "path": "/"}',
    "lone low surrogate in a key": b'{"\\udc00": 1}',
    "deep array": b'{"body": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "deep object": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "unterminated deep": b"[" * 100_000,
    "not utf-8": b'{"body": "\xff\xfe"}',
    "huge number": b'{"body": ' + b"9" * 5000 + b"}",
}


@pytest.mark.parametrize("name", HOSTILE_BODIES)
def test_hostile_json_is_a_400_not_a_500(stack, name):
    status, body = raw_request(stack, "POST", EXECUTIONS, HOSTILE_BODIES[name])
    assert 400 <= status < 500, (name, status, body)
    # and the stack still works afterwards
    assert raw_request(stack, "GET", "/v1/health/version")[0] in (200, 404)


def test_a_valid_surrogate_pair_is_fine(stack):
    status, body = raw_request(stack, "POST", EXECUTIONS, b'{"body": "\\ud83d\\ude00", "path": "/"}')
    assert status == 201, body


def test_huge_headers_are_a_4xx(stack):
    one_huge = {"x-junk": "a" * 70_000}
    status, _ = raw_request(stack, "GET", "/v1/functions", headers=one_huge)
    assert 400 <= status < 500
    many_big = {f"x-junk-{i}": "b" * 8000 for i in range(20)}
    status, _ = raw_request(stack, "GET", "/v1/functions", headers=many_big)
    assert status == 431
    too_many = {f"x-h-{i}": "c" for i in range(150)}
    status, _ = raw_request(stack, "GET", "/v1/functions", headers=too_many)
    assert 400 <= status < 500


@pytest.mark.parametrize("length", ["abc", "-5", "1e3"])
def test_a_nonsense_content_length_is_a_400(stack, length):
    status, _ = raw_request(stack, "POST", EXECUTIONS, b"{}", headers={"content-length": length})
    assert status == 400


def test_query_keys_nested_past_the_recursion_limit_are_a_400(stack):
    key = "q" + "[a]" * 5000
    status, _ = raw_request(stack, "GET", f"/v1/functions?{key}=1")
    assert 400 <= status < 500


def test_a_surrogate_in_the_query_is_a_400(stack):
    status, _ = raw_request(stack, "GET", "/v1/functions?search=%ED%A0%80")
    assert 400 <= status < 500 or status == 200  # undecodable bytes are replaced, never a 500
