"""A small, concurrent HTTP layer: request parsing, routing and Appwrite error bodies.

The SDK sends GET parameters in the query string, PHP-style (``queries[0]=...``), and every other
method's parameters as a JSON body; :class:`Request` folds both into ``params`` so service handlers
never care which one arrived. Each request runs on its own thread (``ThreadingHTTPServer``), which
is what lets a function execution call back into the stack while its own request is in flight (a
thread that finished a connection serves the next one: ``reused_threads.py``).
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .auth import Caller
from .cors import Cors, unknown_origin
from .errors import AppwriteError
from .http_headers import HeaderBlockTooLarge, read_headers
from .reused_threads import ReusedThreads

API_PREFIX = "/v1"
# Input limits of the stack's own API: hostile input gets Appwrite's 400/413/431, never a 500 or a
# dropped connection. PHP's json_decode (Appwrite) stops at depth 512 and refuses unpaired surrogates.
MAX_REQUEST_BYTES = 32 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024  # all header lines together (http.server already caps one line and the count)
MAX_JSON_DEPTH = 512
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")  # what a JSON string escapes a surrogate as


class BadInput(Exception):
    """The request cannot be parsed; answered with ``status`` and an Appwrite error body."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.error = AppwriteError(status, type_, message)


def json_depth(raw: bytes) -> int:
    """Deepest array/object nesting, found without parsing (strings skipped), so never recursing."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                break
        else:
            depth -= 1
    return deepest


def has_lone_surrogate(value: Any) -> bool:
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


def decode_json_body(body: bytes) -> Any:
    """The parsed body, or ``BadInput`` (400) for malformed, too deep, non-UTF-8 or surrogate-holding JSON."""
    invalid = BadInput(400, "general_argument_invalid", "Request body is not valid JSON.")
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadInput(400, "general_argument_invalid", f"Request body is nested deeper than {MAX_JSON_DEPTH}.")
    try:
        decoded = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise invalid from None
    # Only a \\u escape can make one (the body decoded as UTF-8): bodies without any skip the walk.
    if _ESCAPED_SURROGATE.search(body) and has_lone_surrogate(decoded):
        raise BadInput(400, "general_argument_invalid", "Request body holds an unpaired UTF-16 surrogate.")
    return decoded


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, Any]
    body: bytes
    caller: Caller | None = None
    client_ip: str = ""
    raw_query: str = ""  # the query string as sent (function domains pass it on untouched)

    def param(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def require(self, name: str) -> Any:
        value = self.params.get(name)
        if value is None or value == "":
            raise AppwriteError(400, "general_argument_invalid", f'Param "{name}" is not optional.')
        return value


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("content-type", "application/octet-stream")
        return json.dumps(self.body, default=str).encode(), "application/json"


Handler = Callable[..., Any]


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    scope: str | None
    users: bool


class Router:
    """Maps ``METHOD /path/{param}`` to handlers.

    ``scope`` is the API-key scope the route needs (Appwrite's own names, e.g. ``rows.read``);
    ``users=True`` also lets a caller authenticated by a user JWT in (Account, executions).
    Routes with ``scope=None`` and ``users=False`` are public.

    The first route added that matches wins. A parameter never spans a ``/``, so only routes with as many
    segments as the path, and the same first segment unless theirs is a parameter, can match: ``match``
    tries those (kept in an index by both), not every route's regex.
    """

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self._index: dict[tuple[int, str], list[Route]] | None = None

    def add(self, method: str, pattern: str, handler: Handler, *, scope: str | None, users: bool = False) -> None:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")
        self.routes.append(Route(method.upper(), pattern, regex, handler, scope, users))
        self._index = None

    def _candidates(self, path: str) -> list[Route]:
        """The routes that could match ``path``, in the order they were added."""
        if not path.startswith("/"):
            return []
        index = self._index
        if index is None:
            self._index = index = self._build_index()
        count = path.count("/")
        found = index.get((count, path.split("/", 2)[1]))
        return found if found is not None else index.get((count, "{"), [])

    def _build_index(self) -> dict[tuple[int, str], list[Route]]:
        keys = {(route.pattern.count("/"), _first_segment(route.pattern)) for route in self.routes}
        return {(count, first): [route for route in self.routes if route.pattern.count("/") == count
                                 and _first_segment(route.pattern) in (first, "{")] for count, first in keys}

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed = False
        for route in self._candidates(path):
            found = route.regex.match(path)
            if not found:
                continue
            if route.method != method:
                allowed = True
                continue
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
        if allowed:
            raise AppwriteError(405, "general_not_found", "Method not allowed for this route.")
        raise AppwriteError(404, "general_route_not_found", "The requested route was not found.")


def _first_segment(pattern: str) -> str:
    """A route pattern's first path segment, or ``{`` when that is a parameter (matching any)."""
    first = pattern.split("/", 2)[1] if pattern.startswith("/") else ""
    return "{" if "{" in first else first


def parse_query_string(query: str) -> dict[str, Any]:
    """Parse PHP-style keys (``a[0]=x&a[1]=y``, ``b[c]=z``) into lists and dicts."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        if not parts:
            continue
        _assign(out, parts, _scalar(value))
    return _lists_from_index_dicts(out)


def _scalar(value: str) -> Any:
    if value == "true":
        return True
    if value == "false":
        return False
    return value


def _assign(target: dict[str, Any], parts: list[str], value: Any) -> None:
    node = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "[]":
            part = str(len(node))
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, {})


def _lists_from_index_dicts(node: Any) -> Any:
    if isinstance(node, dict):
        converted = {k: _lists_from_index_dicts(v) for k, v in node.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return node


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: HTTPServer
    _date: tuple[int, str] = (0, "")  # the second and its Date header

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def parse_request(self) -> bool:
        """``BaseHTTPRequestHandler.parse_request`` (Python 3.11), the header block read by ``http_headers``
        instead of the e-mail parser; every answer to a malformed request line or header block is the same."""
        self.command = None  # type: ignore[assignment]  # set in case of error on the first line
        self.request_version = version = self.default_request_version
        self.close_connection = True
        requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = requestline
        words = requestline.split()
        if len(words) == 0:
            return False
        if len(words) >= 3:  # enough to determine the protocol version
            version = words[-1]
            try:
                if not version.startswith("HTTP/"):
                    raise ValueError
                base_version_number = version.split("/", 1)[1]
                numbers = base_version_number.split(".")
                if len(numbers) != 2 or any(not n.isdigit() or len(n) > 10 for n in numbers):
                    raise ValueError
                version_number = int(numbers[0]), int(numbers[1])
            except (ValueError, IndexError):
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request version ({version!r})")
                return False
            if version_number >= (1, 1) and self.protocol_version >= "HTTP/1.1":
                self.close_connection = False
            if version_number >= (2, 0):
                self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, f"Invalid HTTP version ({base_version_number})")
                return False
            self.request_version = version
        if not 2 <= len(words) <= 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({requestline!r})")
            return False
        command, path = words[:2]
        if len(words) == 2:
            self.close_connection = True
            if command != "GET":
                self.send_error(HTTPStatus.BAD_REQUEST, f"Bad HTTP/0.9 request type ({command!r})")
                return False
        self.command, self.path = command, path
        if self.path.startswith("//"):  # gh-87389: never an open redirect
            self.path = "/" + self.path.lstrip("/")
        try:
            self.headers = read_headers(self.rfile)  # type: ignore[assignment]
        except HeaderBlockTooLarge as error:
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, error.reason, str(error))
            return False
        conntype = (self.headers.get("Connection") or "").lower()
        if conntype == "close":
            self.close_connection = True
        elif conntype == "keep-alive" and self.protocol_version >= "HTTP/1.1":
            self.close_connection = False
        expect = (self.headers.get("Expect") or "").lower()
        if expect == "100-continue" and self.protocol_version >= "HTTP/1.1" and self.request_version >= "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header, formatted once a second rather than for every response."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        now = int(time.time())
        second, text = _Handler._date  # one tuple, replaced whole: threads never see half of it
        if second != now:
            text = super().date_time_string(now)
            _Handler._date = (now, text)
        return text

    def _dispatch(self) -> None:
        try:
            request = self._read_request()
        except BadInput as refused:
            self.close_connection = True  # the body may be unread: do not reuse the connection
            self._send(Response(refused.error.code, refused.error.body()))
            return
        response = self.server.app.handle(request)
        self._send(response)

    def do_OPTIONS(self) -> None:
        """CORS preflight: answered for every path; only a registered platform's origin is echoed."""
        self._send(Response(204, b"", {"content-type": "text/plain"}))

    def _send(self, response: Response) -> None:
        payload, content_type = response.encode()
        self.send_response(response.status)
        self.send_header("content-type", response.headers.pop("content-type", content_type))
        for key, value in {**self._cors_headers(), **response.headers}.items():
            self.send_header(key, value)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _cors_headers(self) -> dict[str, str]:
        return self.server.app.cors.headers(self.headers.get("origin"))

    def _read_request(self) -> Request:
        url = urlsplit(self.path)
        header_bytes = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        if header_bytes > MAX_HEADER_BYTES:
            raise BadInput(431, "general_argument_invalid", "Request headers are too large.")
        raw_length = (self.headers.get("content-length") or "0").strip()
        if not raw_length.isdigit():
            raise BadInput(400, "general_argument_invalid", "Invalid content-length header.")
        length = int(raw_length)
        if length > MAX_REQUEST_BYTES:
            raise BadInput(413, "storage_invalid_content_range", "Request body is too large.")
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            params: dict[str, Any] = parse_query_string(url.query)
        except (ValueError, RecursionError):
            raise BadInput(400, "general_argument_invalid", "Invalid query string.") from None
        if has_lone_surrogate(params):
            raise BadInput(400, "general_argument_invalid", "Query holds an unpaired UTF-16 surrogate.")
        if body and headers.get("content-type", "").startswith("application/json"):
            decoded = decode_json_body(body)
            if isinstance(decoded, dict):
                params.update(decoded)
        path = url.path
        return Request(self.command, path, headers, params, body, client_ip=self.client_address[0], raw_query=url.query)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _dispatch  # noqa: N815 - stdlib names


class HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512

    def __init__(self, address: tuple[str, int], app: Dispatcher, verbose: bool = False) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.verbose = verbose
        self.threads = ReusedThreads(self.process_request_thread)

    def process_request(self, request: Any, client_address: Any) -> None:
        """On an idle connection thread, else a new one (``reused_threads.py``), never queued."""
        self.threads.submit(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self.threads.close()


class Dispatcher:
    """Routes a parsed request, authenticates it, and renders errors the Appwrite way."""

    def __init__(self, router: Router, authenticate: Callable[[Request, Route], Caller],
                 cors: Cors | None = None) -> None:
        self.router = router
        self.authenticate = authenticate
        self.cors = cors or Cors()
        # Called with (request, route or None, response) after every request: the contract test
        # records responses this way without the services knowing.
        self.observers: list[Callable[[Request, Route | None, Response], None]] = []
        # Asked first: answers requests whose Host is a function domain (``domains.py``), else None.
        self.domains: Callable[[Request], Response | None] | None = None

    def handle(self, request: Request) -> Response:
        matched: list[Route] = []  # the route ``_handle`` matched, so the observers get it without a second match
        response = self._handle(request, matched)
        if matched:
            route: Route | None = matched[0]
        else:  # not an API path, a function domain's request, or no such route
            try:
                route, _ = self.router.match(request.method, request.path[len(API_PREFIX):] or "/")
            except AppwriteError:
                route = None
        for observe in self.observers:
            observe(request, route, response)
        return response

    def _handle(self, request: Request, matched: list[Route]) -> Response:
        if self.domains is not None:
            answer = self.domains(request)
            if answer is not None:
                return answer
        try:
            if not request.path.startswith(API_PREFIX):
                raise AppwriteError(404, "general_route_not_found", "The requested route was not found.")
            if request.params.pop("__invalid_json__", False):
                raise AppwriteError(400, "general_argument_invalid", "Request body is not valid JSON.")
            route, path_params = self.router.match(request.method, request.path[len(API_PREFIX):] or "/")
            matched.append(route)
            self._check_origin(request)
            request.caller = self.authenticate(request, route)
            result = route.handler(request, **path_params)
            if isinstance(result, Response):
                return result
            return Response(200, result)
        except AppwriteError as error:
            return Response(error.code, error.body())
        except Exception:  # a bug in the stack must still answer like Appwrite does
            traceback.print_exc()
            error = AppwriteError(500, "general_unknown", "Server Error")
            return Response(500, error.body())

    def _check_origin(self, request: Request) -> None:
        """Appwrite's CSRF check: a browser request from an unregistered origin is refused (keys are exempt)."""
        origin = request.headers.get("origin")
        if origin and not request.headers.get("x-appwrite-key") and not self.cors.allows_origin(origin):
            raise unknown_origin()


# How often serve_forever looks at its shutdown flag: ``stop()`` waits up to this long (the default, 0.5 s,
# was most of a test stack's start-and-stop; the suite starts dozens of stacks).
SHUTDOWN_POLL_SECONDS = 0.05


def serve_in_thread(server: HTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL_SECONDS,), name="local-appwrite-http",
                              daemon=True)
    thread.start()
    return thread
