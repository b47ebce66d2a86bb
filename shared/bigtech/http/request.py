"""``Request``: the handler's view of ``context.req``, with the parsing the runtime does not do.

The Open Runtimes ``query`` is a naive split (no URL-decoding, last repeated key wins), so the query
is parsed again from ``query_string`` with ``urllib``. Bodies are decoded lazily and bad input
becomes a Bigtech 400/413/422, never a 500: the limits (size, depth, surrogates, query length) are
in ``limits.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs

from pydantic import BaseModel, ValidationError

from ..errors import BadRequest, Unprocessable
from ..log import FunctionLogger
from . import limits

if TYPE_CHECKING:
    from .routing import Route

ModelT = TypeVar("ModelT", bound=BaseModel)

_MISSING = object()


def validation_details(error: ValidationError) -> list[dict[str, str]]:
    """pydantic's errors as ``[{field, message}]`` with dotted field paths (``items.0.sku``)."""
    details = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item.get("loc", ())) or "body"
        details.append({"field": field, "message": item.get("msg", "Invalid value.")})
    return details


# pydantic error types that mean "this value is not of the field's type at all" (a string where an
# integer goes, an object where a list goes, a float for a strict integer): the request is malformed.
_NUMBER_PARSING = frozenset({"int_parsing", "float_parsing", "bool_parsing", "decimal_parsing", "int_from_float",
                             "int_parsing_size"})


def is_type_error(kind: str) -> bool:
    return kind.endswith("_type") or kind in _NUMBER_PARSING


def unprocessable(error: ValidationError) -> BadRequest | Unprocessable:
    """pydantic's errors as the style guide's answer (docs/api-style.md, "400 or 422"): a value of the wrong
    type that cannot be read as the field's type → 400 ``invalid_type``; otherwise (missing, out of range,
    not allowed, unknown field…) → 422 ``validation_failed``. Both name every field in ``details``."""
    details = validation_details(error)
    fields = ", ".join(sorted({d["field"] for d in details}))
    if any(is_type_error(str(item.get("type", ""))) for item in error.errors(include_url=False)):
        return BadRequest(f"Fields of the wrong type: {fields}.", code="invalid_type", details=details)
    return Unprocessable(f"Invalid fields: {fields}.", details=details)


class Request:
    """One execution's request. Built by ``serve``; handlers receive it as their first argument."""

    def __init__(self, context: Any, path_params: Mapping[str, str] | None = None) -> None:
        self.context = context
        raw = context.req
        self.method: str = str(getattr(raw, "method", "GET") or "GET").upper()
        path = str(getattr(raw, "path", "/") or "/")
        query_string = str(getattr(raw, "query_string", "") or "")
        if "?" in path:  # tolerate runners that leave the query on the path
            path, _, inline_query = path.partition("?")
            query_string = query_string or inline_query
        self.path: str = path if path.startswith("/") else "/" + path
        self.query_string: str = query_string
        raw_headers = getattr(raw, "headers", None) or {}
        self.headers: dict[str, str] = {str(k).lower(): str(v) for k, v in raw_headers.items()}
        self.path_params: dict[str, str] = dict(path_params or {})
        self.route: Route | None = None  # set by ``serve`` once routed; ``route.action`` drives permissions
        limits.check_query(query_string)
        try:
            self._query_lists: dict[str, list[str]] = parse_qs(
                query_string, keep_blank_values=True, max_num_fields=limits.MAX_QUERY_FIELDS)
        except ValueError:
            raise BadRequest(f"More than {limits.MAX_QUERY_FIELDS} query parameters.", code="invalid_query") from None
        self._json: Any = _MISSING
        # Headers every answer to this request carries (e.g. ``RateLimit-*``), errors included.
        self.response_headers: dict[str, str] = {}

    # -- headers and identity -------------------------------------------------------------------

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    @property
    def user_id(self) -> str | None:
        """Set by Appwrite for signed-in callers of the executions API; cannot be spoofed there."""
        return self.headers.get("x-appwrite-user-id") or None

    @property
    def user_jwt(self) -> str | None:
        return self.headers.get("x-appwrite-user-jwt") or None

    @property
    def execution_id(self) -> str | None:
        return self.headers.get("x-appwrite-execution-id") or None

    @property
    def trigger(self) -> str:
        """``http``, ``event`` or ``schedule``."""
        return self.headers.get("x-appwrite-trigger", "http")

    @property
    def log(self) -> FunctionLogger:
        """``context.log``/``context.error`` with CPF/CNPJ masking: ``request.log.log("…")``."""
        return FunctionLogger(self.context)

    # -- query -----------------------------------------------------------------------------------

    @property
    def query(self) -> dict[str, str]:
        """URL-decoded query parameters; for a repeated key, the first value (see ``query_list``)."""
        return {key: values[0] for key, values in self._query_lists.items()}

    def query_list(self, name: str) -> list[str]:
        return list(self._query_lists.get(name, []))

    def query_model(self, model: type[ModelT]) -> ModelT:
        """Validate the query parameters with a pydantic model (invalid → 422 with field errors)."""
        try:
            return model.model_validate(self.query)
        except ValidationError as error:
            raise unprocessable(error) from None

    # -- body ------------------------------------------------------------------------------------

    @property
    def body(self) -> bytes:
        raw = getattr(self.context.req, "body_binary", b"")
        if raw is None:
            return b""
        return raw.encode("utf-8") if isinstance(raw, str) else bytes(raw)

    def text(self) -> str:
        limits.check_body_size(self.body)
        try:
            return self.body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest("The body is not valid UTF-8.", code="invalid_body") from None

    def json(self) -> Any:
        """The parsed JSON body; ``None`` for an empty body; malformed, too deep or holding a lone
        surrogate → 400 ``invalid_json``; over the size limit → 413 (``limits.parse_json``)."""
        if self._json is _MISSING:
            raw = self.body
            self._json = None if not raw.strip() else limits.parse_json(raw)
        return self._json

    def model(self, model: type[ModelT]) -> ModelT:
        """Validate the JSON body with a pydantic model: an empty body counts as ``{}``; a body that is
        not a JSON object is malformed (400 ``invalid_body``); an object with invalid fields → 422
        (docs/api-style.md, "400 or 422")."""
        data = self.json()
        if data is not None and not isinstance(data, dict):
            raise BadRequest("The body must be a JSON object.", code="invalid_body")
        try:
            return model.model_validate({} if data is None else data)
        except ValidationError as error:
            raise unprocessable(error) from None
