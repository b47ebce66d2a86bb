"""What the generator reads from a handler's own code, so routes declare only the rest (``RouteDoc``).

From the source of the handler (and, transitively, of the first-party functions it calls, a few levels
deep) it collects:

- ``request.model(X)`` / ``request.query_model(X)``: the body and query models;
- ``created(…)`` → 201, ``no_content()`` → 204, ``json_response(…, 202)`` → that status (in the handler
  itself), ``text_response(…, content_type=…)`` / ``Response(…, {"content-type": …})`` anywhere → a
  non-JSON body it may answer with (besides JSON);
- ``raise Cls(…, code="…")`` / ``Cls.field(…, code="…")`` with ``Cls`` a ``BigtechError``: the codes
  (the class's default code when none is given) it may answer with;
- ``idempotency.read_key(request)`` and ``request.header("…")`` reads of well-known headers;
- query parameters read by hand: ``request.query.get("x")``, ``query["x"]`` (a ``query`` mapping),
  ``request.query_list("x")`` (repeatable).

It is a static approximation: a call through an object attribute (``plugin.execute``) is not followed,
except that the methods of a first-party class the handler instantiates are visited (a gateway or a
store object); a route names what inference misses in ``RouteDoc.errors``. Never raises: a handler whose source is not
available (a builtin, a lambda) simply yields nothing.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from ..errors import BigtechError

MAX_DEPTH = 4
FIRST_PARTY = frozenset({"bigtech", "function", "functions", "plugins"})  # plus the handler's own package
KNOWN_HEADERS = ("idempotency-key", "x-api-key", "x-metrics-token")


@dataclass
class Inferred:
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    status: int | None = None
    content_types: list[str] = field(default_factory=list)  # non-JSON bodies it may answer with
    errors: dict[str, int] = field(default_factory=dict)  # code → status
    headers: set[str] = field(default_factory=set)
    query_params: dict[str, bool] = field(default_factory=dict)  # read by hand: name → repeated (a list)?


def _root(obj: Any) -> str:
    return (getattr(obj, "__module__", "") or "").split(".", 1)[0]


def _resolve(node: ast.expr, scope: dict[str, Any]) -> Any:
    """``Name`` / ``mod.attr`` / ``mod.sub.attr`` to the object it names in ``scope``, else ``None``."""
    if isinstance(node, ast.Name):
        return scope.get(node.id, getattr(__builtins__, node.id, None) if not isinstance(__builtins__, dict)
                         else __builtins__.get(node.id))
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        if isinstance(base, types.ModuleType | type):
            return getattr(base, node.attr, None)
    return None


@lru_cache(maxsize=2048)
def _tree(function: Any) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None


def _is_query(node: ast.expr) -> bool:
    """``request.query`` or a mapping named ``query`` (a helper handed ``request.query``)."""
    return (isinstance(node, ast.Attribute) and node.attr == "query") or (
        isinstance(node, ast.Name) and node.id == "query")


def _constant(node: ast.expr | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _error_class(obj: Any) -> type[BigtechError] | None:
    return obj if isinstance(obj, type) and issubclass(obj, BigtechError) else None


def _visit(function: Any, found: Inferred, seen: set[int], depth: int, top: bool, roots: frozenset[str]) -> None:
    function = inspect.unwrap(function)
    if id(function) in seen or depth > MAX_DEPTH:
        return
    seen.add(id(function))
    tree = _tree(function)
    if tree is None:
        return
    scope = dict(getattr(function, "__globals__", {}))
    if getattr(function, "__closure__", None):
        for name, cell in zip(function.__code__.co_freevars, function.__closure__, strict=False):
            try:
                scope[name] = cell.cell_contents
            except ValueError:
                continue
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and _is_query(node.value):
            name = _constant(node.slice)
            if isinstance(name, str):
                found.query_params.setdefault(name, False)
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and node.args and isinstance(_constant(node.args[0]), str) and (
                (func.attr == "get" and _is_query(func.value)) or func.attr == "query_list"):
            found.query_params[_constant(node.args[0])] = func.attr == "query_list"
        if isinstance(func, ast.Attribute) and func.attr in ("model", "query_model") and node.args:
            model = _resolve(node.args[0], scope)
            if isinstance(model, type) and issubclass(model, BaseModel):
                if func.attr == "model" and found.body is None:
                    found.body = model
                elif func.attr == "query_model" and found.query is None:
                    found.query = model
            continue
        if isinstance(func, ast.Attribute) and func.attr == "header" and node.args:
            name = _constant(node.args[0])
            if isinstance(name, str) and name.lower() in KNOWN_HEADERS:
                found.headers.add(name.lower())
        target = _resolve(func, scope)
        if isinstance(func, ast.Attribute) and func.attr == "field":  # Unprocessable.field(..., code=)
            target = _error_class(_resolve(func.value, scope)) or target
        cls = _error_class(target)
        if cls is not None:
            code = next((_constant(k.value) for k in node.keywords if k.arg == "code"), None)
            has_dynamic_code = any(k.arg == "code" and not isinstance(k.value, ast.Constant) for k in node.keywords)
            if not has_dynamic_code:
                found.errors.setdefault(code if isinstance(code, str) else cls.default_code, cls.status)
            continue
        _success(node, target, found, top, scope)
        if getattr(target, "__module__", "") == "bigtech.idempotency" and getattr(target, "__name__", "") == "read_key":
            found.headers.add("idempotency-key")
        if inspect.isfunction(target) and _root(target) in roots:
            _visit(target, found, seen, depth + 1, False, roots)
        elif isinstance(target, type) and _root(target) in roots and not issubclass(target, BaseModel):
            # a first-party object built here (a gateway, a store): its methods may run, so visit them
            for member in vars(target).values():
                if inspect.isfunction(member):
                    _visit(member, found, seen, depth + 1, False, roots)


def _media(value: Any) -> str | None:
    return value.split(";", 1)[0].strip().lower() if isinstance(value, str) and "/" in value else None


def _argument(node: ast.Call, index: int, name: str, scope: dict[str, Any]) -> Any:
    """A call's argument by position or keyword, resolved to a constant where it is one."""
    value = node.args[index] if len(node.args) > index else next(
        (k.value for k in node.keywords if k.arg == name), None)
    if value is None:
        return None
    if isinstance(value, ast.Constant):
        return value.value
    resolved = _resolve(value, scope)
    return resolved if isinstance(resolved, str | int) else value


def _success(node: ast.Call, target: Any, found: Inferred, top: bool, scope: dict[str, Any]) -> None:
    """Success statuses (the handler's own calls) and non-JSON content types (at any depth)."""
    name = getattr(target, "__name__", "")
    if not (getattr(target, "__module__", "") or "").startswith("bigtech.http"):
        return
    if top and name == "created":
        found.status = found.status or 201
    elif top and name == "no_content":
        found.status = found.status or 204
    elif top and name == "json_response":
        status = _argument(node, 1, "status", scope)
        if isinstance(status, int) and 200 <= status < 300 and found.status is None:
            found.status = status
    elif name == "text_response":
        kind = _argument(node, 2, "content_type", scope)
        media = _media(kind) if isinstance(kind, str) else "text/plain" if kind is None else None
        if media and media not in found.content_types:
            found.content_types.append(media)
    elif name == "Response":
        headers = _argument(node, 2, "headers", scope)
        if isinstance(headers, ast.Dict):
            for key, value in zip(headers.keys, headers.values, strict=True):
                if isinstance(key, ast.Constant) and str(key.value).lower() == "content-type":
                    constant = value.value if isinstance(value, ast.Constant) else _resolve(value, scope)
                    media = _media(constant)
                    if media and media not in found.content_types:
                        found.content_types.append(media)


def infer(handler: Any) -> Inferred:
    found = Inferred()
    try:
        _visit(handler, found, set(), 0, True, FIRST_PARTY | {_root(inspect.unwrap(handler))})
    except Exception:  # inference is best effort: a surprise in someone's code must not break the document
        return found
    return found


__all__ = ["Inferred", "infer"]
