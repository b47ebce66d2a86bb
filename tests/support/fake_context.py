"""A stand-in for the Open Runtimes ``context`` with the same attribute names, for unit tests.

Mirrors ``open-runtimes`` ``function_types.py``: ``context.req`` (``body_binary``, ``body_text``,
``body_json``, ``headers`` lowercased, ``method``, ``path``, ``query`` (the runtime's naive split),
``query_string``, ``scheme``, ``host``, ``port``, ``url``), ``context.res`` (``text``, ``binary``,
``json``, ``empty``, ``redirect`` → the dict the runtime serialises) and ``context.log``/``error``
(kept in ``logs``/``errors``). ``call(main, ...)`` runs a function's ``main`` and decodes the answer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


class FakeRequest:
    def __init__(
        self,
        method: str = "GET",
        path: str = "/",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        query_string: str = "",
        host: str = "localhost",
        port: int = 80,
        scheme: str = "http",
    ) -> None:
        self.body_binary = body
        self.method = method
        self.path = path
        self.headers = {k.lower(): v for k, v in (headers or {}).items()}
        self.query_string = query_string
        self.query = naive_query(query_string)
        self.scheme = scheme
        self.host = host
        self.port = port
        self.url = f"{scheme}://{host}{'' if port in (80, 443) else f':{port}'}{path}"
        if query_string:
            self.url += "?" + query_string

    @property
    def body_text(self) -> str:
        return self.body_binary.decode("utf-8")

    @property
    def body_json(self) -> Any:
        return json.loads(self.body_text)


class FakeResponse:
    """Same outputs as the runtime's ``Response`` (without its shared-mutable-default headers)."""

    def binary(self, data: bytes, statusCode: int = 200, headers: dict | None = None) -> dict:  # noqa: N803
        return {"body": data, "statusCode": statusCode, "headers": dict(headers or {})}

    def text(self, body: str, statusCode: int = 200, headers: dict | None = None) -> dict:  # noqa: N803
        return self.binary(body.encode("utf-8"), statusCode, headers)

    def json(self, obj: Any, statusCode: int = 200, headers: dict | None = None) -> dict:  # noqa: N803
        headers = dict(headers or {})
        headers["content-type"] = "application/json"
        return self.text(json.dumps(obj, separators=(",", ":")), statusCode, headers)

    def empty(self) -> dict:
        return self.text("", 204, {})

    def redirect(self, url: str, statusCode: int = 301, headers: dict | None = None) -> dict:  # noqa: N803
        headers = dict(headers or {})
        headers["location"] = url
        return self.text("", statusCode, headers)


class FakeContext:
    def __init__(self, req: FakeRequest) -> None:
        self.req = req
        self.res = FakeResponse()
        self.logs: list[str] = []
        self.errors: list[str] = []

    def log(self, *messages: Any) -> None:
        self.logs.append(" ".join(str(m) for m in messages))

    def error(self, *messages: Any) -> None:
        self.errors.append(" ".join(str(m) for m in messages))


def naive_query(query_string: str) -> dict[str, str]:
    """The runtime's own parsing: split on ``&`` and ``=``, no decoding, last key wins."""
    query: dict[str, str] = {}
    for param in query_string.split("&"):
        pair = param.split("=", 1)
        if pair[0]:
            query[pair[0]] = pair[1] if len(pair) > 1 else ""
    return query


def make_context(
    method: str = "GET",
    path: str = "/",
    body: Any = None,
    headers: dict[str, str] | None = None,
    query_string: str = "",
) -> FakeContext:
    """A context for one request; ``body`` may be bytes, str, or anything JSON-serialisable."""
    headers = dict(headers or {})
    if body is None:
        raw = b""
    elif isinstance(body, bytes):
        raw = body
    elif isinstance(body, str):
        raw = body.encode("utf-8")
    else:
        raw = json.dumps(body).encode("utf-8")
        headers.setdefault("content-type", "application/json")
    return FakeContext(FakeRequest(method, path, raw, headers, query_string))


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]
    context: FakeContext = field(repr=False)

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


def call(main: Any, method: str = "GET", path: str = "/", **kwargs: Any) -> Answer:
    """Run ``main`` on one request and return the decoded answer (status, body, headers, context)."""
    context = make_context(method, path, **kwargs)
    output = main(context)
    assert output is not None, "main must return context.res.*(...)"
    return Answer(output["statusCode"], output["body"], output["headers"], context)
