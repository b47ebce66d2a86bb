"""What a handler returns: a ``Response`` (or a plain dict/list/model, which means 200 JSON).

``send`` is the one place that talks to ``context.res``; it serialises pydantic models, datetimes and
the like itself because the runtime's ``res.json`` only knows plain ``json.dumps``, and it always
passes a fresh headers dict because the runtime's ``res.json`` mutates the dict it is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic_core import to_jsonable_python


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, context: Any) -> Any:
        """Build the runtime's response object (which ``main`` must return)."""
        headers = {key.lower(): str(value) for key, value in self.headers.items()}
        if self.status == 204 or (self.body is None and self.status != 200):
            return context.res.text("", self.status, headers)
        if isinstance(self.body, bytes):
            return context.res.binary(self.body, self.status, headers)
        if isinstance(self.body, str):
            headers.setdefault("content-type", "text/plain; charset=utf-8")
            return context.res.text(self.body, self.status, headers)
        return context.res.json(to_jsonable_python(self.body), self.status, headers)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, body, dict(headers or {}))


def created(body: Any, headers: dict[str, str] | None = None) -> Response:
    return json_response(body, 201, headers)


def no_content() -> Response:
    return Response(204, None)


def text_response(body: str, status: int = 200, content_type: str = "text/plain; charset=utf-8") -> Response:
    """For non-JSON bodies such as CSV exports."""
    return Response(status, body, {"content-type": content_type})


def to_response(value: Any) -> Response:
    """Normalise a handler's return value: ``Response`` as is, ``None`` → 204, anything else → 200 JSON."""
    if isinstance(value, Response):
        return value
    if value is None:
        return no_content()
    return json_response(value)
