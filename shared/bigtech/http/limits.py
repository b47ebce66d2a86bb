"""Input limits every function applies before a handler sees a request (docs/security.md, "Requests").

Everything from outside is hostile, and the failures it aims for are the expensive ones: a body big
enough to exhaust memory, JSON nested deep enough to blow Python's recursion limit inside
``json.loads`` (a ``RecursionError``, not a ``ValueError``), strings holding lone UTF-16 surrogates
(``"\\ud800"`` parses, then every ``.encode("utf-8")`` downstream raises), ``NaN``/``Infinity`` that
no JSON consumer accepts, and path parameters that are not ids at all (``..``, ``%2F``, 10 kB).

Each limit is a constant here so the docs and the tests read the same numbers.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import BadRequest, NotFound, PayloadTooLarge

MAX_BODY_BYTES = 256 * 1024  # request bodies (JSON or not): larger → 413 payload_too_large
MAX_JSON_DEPTH = 64  # nested arrays/objects: deeper → 400 invalid_json
MAX_QUERY_BYTES = 8 * 1024  # the raw query string: longer → 400 invalid_query
MAX_QUERY_FIELDS = 100  # query parameters: more → 400 invalid_query
MAX_PATH_BYTES = 1024  # the request path: longer → 404 route_not_found
# A path parameter is an id (Appwrite's rule: 36 characters; plugin and tenant ids fit too). Anything
# else names nothing that can exist, so it is a 404 before any Appwrite call sees it.
PATH_PARAM_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# A JSON string (unrolled loop: no backtracking blow-up) and the structural brackets outside strings.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_OPEN = frozenset(b"[{")


def check_body_size(raw: bytes) -> None:
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB.",
                              details={"limit_bytes": MAX_BODY_BYTES})


def json_depth(raw: bytes, stop_above: int | None = None) -> int:
    """The deepest nesting of arrays/objects in ``raw``, found without parsing it (strings skipped).

    Cheap enough to run on every body (two regex passes over at most 256 KiB, and it stops as soon as
    the depth passes ``stop_above``), and it never recurses, so it answers before ``json.loads`` could
    hit the recursion limit.
    """
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group()[0] in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if stop_above is not None and deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def has_lone_surrogate(value: Any) -> bool:
    """Whether any string (key or value) in a parsed JSON document holds an unpaired surrogate.

    Iterative on purpose: the document's depth is already bounded, but a checker must not recurse.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_json(raw: bytes) -> Any:
    """Parse a JSON body under the limits; every failure is a 4xx (413 too large, else 400 invalid_json)."""
    check_body_size(raw)
    invalid = BadRequest("The body is not valid JSON.", code="invalid_json")
    if json_depth(raw, MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        raise BadRequest(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels.", code="invalid_json",
                         details={"max_depth": MAX_JSON_DEPTH})
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid from None
    if has_lone_surrogate(value):
        raise BadRequest("The JSON body holds an unpaired UTF-16 surrogate (\\ud800-\\udfff).", code="invalid_json")
    return value


def check_path(path: str) -> None:
    if len(path.encode("utf-8", "surrogatepass")) > MAX_PATH_BYTES:
        raise NotFound("No route for this path.", code="route_not_found")


def check_path_params(params: dict[str, str]) -> None:
    for name, value in params.items():
        if not PATH_PARAM_PATTERN.match(value):
            raise NotFound(f"No resource has this {name}.", code="not_found",
                           details=[{"field": name, "message": "not a valid id"}])


def check_query(query_string: str) -> None:
    if len(query_string) > MAX_QUERY_BYTES:
        raise BadRequest(f"The query string is longer than {MAX_QUERY_BYTES} bytes.", code="invalid_query")


__all__ = [
    "MAX_BODY_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_PATH_BYTES",
    "MAX_QUERY_BYTES",
    "MAX_QUERY_FIELDS",
    "check_body_size",
    "check_path",
    "check_path_params",
    "check_query",
    "has_lone_surrogate",
    "json_depth",
    "parse_json",
]
