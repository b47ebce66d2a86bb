"""The Open Runtimes (Python) function contract: ``context.req``, ``context.res``, ``context.log``.

This mirrors ``open-runtimes/open-runtimes:runtimes/python/versions/latest/src/function_types.py``,
``logger.py`` and the request handling of ``server.py`` so a function sees exactly what it would
see on Appwrite. It is the one source of truth for both runners: the stack imports it as
``local_appwrite.runner.context``, and the standalone build-mode worker loads this very file by
its path. That is why it must import **only the standard library** and never ``local_appwrite``.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

MAX_LOG_CHARS = 8000
TRUNCATED_NOTE = "... Log truncated due to size limit (8000 characters)"
MISSING_RETURN = "Return statement missing. return context.res.empty() if no response is expected."
TIMED_OUT = "Execution timed out."


class Logger:
    """Collects ``context.log``/``context.error`` output; silent when the function's logging is off."""

    TYPE_LOG = "log"
    TYPE_ERROR = "error"

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._logs: list[str] = []
        self._errors: list[str] = []
        self._lock = threading.Lock()

    def write(self, messages: tuple[Any, ...] | list[Any], kind: str = TYPE_LOG) -> None:
        if not self.enabled:
            return
        text = " ".join(
            json.dumps(m, separators=(",", ":")) if isinstance(m, list | dict | tuple) else str(m) for m in messages
        )
        if len(text) > MAX_LOG_CHARS:
            text = text[:MAX_LOG_CHARS] + TRUNCATED_NOTE
        with self._lock:
            (self._errors if kind == self.TYPE_ERROR else self._logs).append(text + "\n")

    @property
    def logs(self) -> str:
        with self._lock:
            return "".join(self._logs)

    @property
    def errors(self) -> str:
        with self._lock:
            return "".join(self._errors)


class Response:
    """``context.res``: each method only builds the dict the function must return."""

    def binary(self, bytes, statusCode=200, headers={}):  # noqa: B006, N803 - the runtime's signature
        return {"body": bytes, "statusCode": statusCode, "headers": headers}

    def text(self, body, statusCode=200, headers={}):  # noqa: B006, N803
        return self.binary(body.encode("utf-8"), statusCode, headers)

    def send(self, body, statusCode=200, headers={}):  # noqa: B006, N803 - deprecated in the runtime too
        return {"body": body, "statusCode": statusCode, "headers": headers}

    def json(self, obj, statusCode=200, headers={}):  # noqa: B006, N803
        headers["content-type"] = "application/json"  # mutates the caller's dict, as the runtime does
        return self.text(json.dumps(obj, separators=(",", ":")), statusCode, headers)

    def empty(self):
        return self.text("", 204, {})

    def redirect(self, url, statusCode=301, headers={}):  # noqa: B006, N803
        headers["location"] = url
        return self.text("", statusCode, headers)


class Request:
    """``context.req``: filled by :func:`build_context`."""

    body_binary: bytes = b""
    headers: dict[str, str]
    method: str = "GET"
    url: str = ""
    path: str = "/"
    port: int = 80
    query: dict[str, str]
    query_string: str = ""
    scheme: str = "http"
    host: str = ""

    @property
    def body_text(self) -> str:
        return self.body_binary.decode("utf-8")

    @property
    def body_json(self) -> Any:
        return json.loads(self.body_text)

    @property
    def body_raw(self) -> str:  # deprecated
        return self.body_text

    @property
    def body(self) -> Any:  # deprecated: JSON when the content-type says so, else text
        content_type = self.headers.get("content-type", "text/plain").lower()
        if content_type.startswith("application/json"):
            return self.body_json if self.body_binary else {}
        return self.body_text


class Context:
    def __init__(self, logger: Logger) -> None:
        self.req = Request()
        self.res = Response()
        self.logger = logger

    def log(self, *messages: Any) -> None:
        self.logger.write(messages, Logger.TYPE_LOG)

    def error(self, *messages: Any) -> None:
        self.logger.write(messages, Logger.TYPE_ERROR)


def build_context(method: str, path: str, headers: dict[str, str], body: bytes, logging: bool = True) -> Context:
    """A context for one request, parsed the way the runtime's ``server.py`` parses it."""
    context = Context(Logger(logging))
    req = context.req
    req.body_binary = body
    req.method = method.upper()
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    req.headers = {k: v for k, v in lowered.items() if not k.startswith("x-open-runtimes-")}
    req.path, _, req.query_string = path.partition("?")
    req.path = req.path or "/"
    req.query = {}
    for param in req.query_string.split("&"):  # no URL-decoding, last key wins: the runtime's own split
        key, _, value = param.partition("=")
        if key:
            req.query[key] = value
    req.scheme = lowered.get("x-forwarded-proto", "http")
    default_port = 443 if req.scheme == "https" else 80
    host = lowered.get("host", "")
    if ":" in host:
        req.host, port = host.split(":", 1)
        req.port = int(port)
    else:
        req.host, req.port = host, default_port
    req.url = f"{req.scheme}://{req.host}" + (f":{req.port}" if req.port != default_port else "") + req.path
    if req.query_string:
        req.url += "?" + req.query_string
    return context


def run(
    load_main: Callable[[], Callable[..., Any]],
    context: Context,
    timeout: float | None,
    cv_context: contextvars.Context | None = None,
) -> dict[str, Any]:
    """Import and call ``main(context)`` with a time limit; return the normalized response.

    Runs on its own thread so a slow **sync** ``main`` can be abandoned at the timeout (it keeps
    running in the background, as on Appwrite where the executor gives up on it); an ``async``
    ``main`` is cancelled by ``asyncio.wait_for``. ``cv_context`` carries per-execution context
    variables (the in-process environment overlay) into that thread.

    Returns ``{statusCode, body (bytes), headers, logs, errors, duration}``.
    """
    started = time.perf_counter()
    box: dict[str, Any] = {}

    def call() -> None:
        try:
            main = load_main()
            output = main(context)
            if inspect.isawaitable(output):
                output = asyncio.run(_bounded(output, timeout))
            box["output"] = output
        except _Expired:
            box["timed_out"] = True
        except BaseException as error:  # the function's failure is reported, never raised into the stack
            context.error("".join(traceback.TracebackException.from_exception(error).format()))
            box["output"] = context.res.text("", 500, {})

    runner = cv_context if cv_context is not None else contextvars.copy_context()
    thread = threading.Thread(target=runner.run, args=(call,), name="function-main", daemon=True)
    thread.start()
    thread.join(None if timeout is None else timeout + 1)
    if thread.is_alive() or box.get("timed_out"):
        context.error(TIMED_OUT)
        output: Any = context.res.text("", 500, {})
    else:
        output = box.get("output")
    if output is None:
        context.error(MISSING_RETURN)
        output = context.res.text("", 500, {})
    result = normalize_output(output, context)
    result.update(logs=context.logger.logs, errors=context.logger.errors, duration=time.perf_counter() - started)
    return result


class _Expired(Exception):
    """The time limit ran out (told apart from a ``TimeoutError`` the function raised itself)."""


async def _bounded(awaitable: Any, timeout: float | None) -> Any:
    task = asyncio.ensure_future(awaitable)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        task.cancel()
        raise _Expired
    return task.result()


def normalize_output(output: Any, context: Context) -> dict[str, Any]:
    """Status, body bytes and lowercased headers with the runtime's default content-type."""
    if not isinstance(output, dict):
        context.error(f"Invalid return value of type {type(output).__name__}: return one of context.res.*().")
        output = context.res.text("", 500, {})
    body = output.get("body", "")
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif not isinstance(body, bytes | bytearray):
        body = str(body).encode("utf-8")
    raw_headers = output.get("headers") or {}
    headers = {str(k).lower(): str(v) for k, v in raw_headers.items()}
    headers = {k: v for k, v in headers.items() if not k.startswith("x-open-runtimes-")}
    content_type = str(raw_headers.get("content-type", "text/plain")).lower()
    if not content_type.startswith("multipart/") and "charset=" not in content_type:
        content_type += "; charset=utf-8"
    headers["content-type"] = content_type
    try:
        status = int(output.get("statusCode", 200))
    except (TypeError, ValueError):
        status = 500
    return {"statusCode": status, "body": bytes(body), "headers": headers}
