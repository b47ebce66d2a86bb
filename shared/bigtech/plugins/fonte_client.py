"""How a consulta plugin calls a fonte plugin: one **synchronous Appwrite execution** per call.

``AppwriteFonteClient`` POSTs an ``ExecuteRequest`` to the fonte function's ``/execute`` with the
consulta execution's own dynamic key (its function needs the ``executions.write`` scope). Every way
the call can break becomes a ``PluginResult`` so the fallback logic has one thing to look at:

- Appwrite 408 (sync executions wait at most 30 s) or an execution that timed out → ``retryable``/``timeout``;
- fonte function missing (404) → ``failed``/``fonte_not_found`` (not billable: the next fonte is tried);
- any other SDK/network error, a failed execution or a non-200 answer → ``retryable``/``fonte_unavailable``;
- a 200 whose body is not a ``PluginResult`` → ``failed``/``invalid_fonte_response``.

``FakeFonteClient`` runs fonte plugins (or plain callables) in-process for unit tests, through the
same JSON round trip, so serialisation bugs show up there too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from pydantic import ValidationError

from . import core_calls
from .contract import ExecuteRequest, FonteRef, PluginContext, PluginResult, Status


class FonteClient(Protocol):
    def call(self, fonte: FonteRef, ctx: PluginContext, query_input: dict[str, Any]) -> PluginResult: ...


def fonte_request(fonte: FonteRef, ctx: PluginContext, query_input: dict[str, Any]) -> ExecuteRequest:
    """The body a fonte receives: the consulta's tenant and request ids, the query, the fonte's config."""
    return ExecuteRequest(
        tenant_id=ctx.tenant_id,
        request_id=ctx.request_id,
        input=query_input,
        config=fonte.config,
        fontes=[],
    )


def parse_result(raw: str | bytes | dict[str, Any] | None) -> PluginResult:
    try:
        data = json.loads(raw) if isinstance(raw, str | bytes) else raw
        return PluginResult.model_validate(data)
    except (ValueError, ValidationError):
        return PluginResult.error(Status.FAILED, "invalid_fonte_response", "The fonte answered something unexpected.")


class AppwriteFonteClient:
    """Calls fontes through ``Functions.create_execution``; build one per execution, never cache it."""

    def __init__(self, functions: Any) -> None:
        self.functions = functions

    @classmethod
    def for_execution(cls, runtime_context: Any) -> AppwriteFonteClient:
        from ..appwrite_access import functions  # imported here: unit tests never need a client

        return cls(functions(runtime_context))

    def call(self, fonte: FonteRef, ctx: PluginContext, query_input: dict[str, Any]) -> PluginResult:
        body = fonte_request(fonte, ctx, query_input).model_dump_json()
        try:
            execution = self.functions.create_execution(
                function_id=fonte.id,
                body=body,
                xasync=False,
                path="/execute",
                method=ExecutionMethod.POST,
                headers=core_calls.headers(fonte.id, "POST", "/execute", body),
            )
        except AppwriteException as error:
            if error.code == 408:
                return PluginResult.error(Status.RETRYABLE, "timeout", f"{fonte.id} did not answer in time.")
            if error.code == 404:
                return PluginResult.error(Status.FAILED, "fonte_not_found", f"{fonte.id} is not deployed.")
            return PluginResult.error(Status.RETRYABLE, "fonte_unavailable", f"{fonte.id} could not be executed.",
                                      detail={"appwrite_code": error.code, "appwrite_type": error.type})
        except Exception:  # network trouble between the function and Appwrite
            return PluginResult.error(Status.RETRYABLE, "fonte_unavailable", f"{fonte.id} could not be executed.")
        status = getattr(execution.status, "value", execution.status)
        code = int(execution.responsestatuscode or 0)
        if status != "completed" or code != 200:
            timed_out = "timed out" in (execution.errors or "").lower() or "timed out" in (execution.responsebody or "")
            return PluginResult.error(
                Status.RETRYABLE,
                "timeout" if timed_out else "fonte_unavailable",
                f"{fonte.id} execution {status} with HTTP {code}.",
                detail={"execution_id": execution.id},
            )
        return parse_result(execution.responsebody)


FakeHandler = Callable[[ExecuteRequest], PluginResult | dict[str, Any]]


class FakeFonteClient:
    """In-process fontes for unit tests: ``{"fonte-sandbox": SandboxPlugin(), "fonte-x": handler}``.

    A value may be a ``Plugin`` (run exactly as ``POST /execute`` would run it), a callable taking the
    ``ExecuteRequest``, or a ``PluginResult`` to return as is. ``calls`` records ``(fonte id, input)``.
    An id missing from the map behaves like an undeployed function.
    """

    def __init__(self, fontes: dict[str, Any]) -> None:
        self.fontes = dict(fontes)
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def call(self, fonte: FonteRef, ctx: PluginContext, query_input: dict[str, Any]) -> PluginResult:
        from .base import Plugin
        from .service import run_execute

        request = ExecuteRequest.model_validate_json(fonte_request(fonte, ctx, query_input).model_dump_json())
        self.calls.append((fonte.id, request.input))
        target = self.fontes.get(fonte.id)
        if target is None:
            return PluginResult.error(Status.FAILED, "fonte_not_found", f"{fonte.id} is not deployed.")
        if isinstance(target, Plugin):
            answer: Any = run_execute(target, request)
        elif isinstance(target, PluginResult):
            answer = target
        else:
            answer = target(request)
        if isinstance(answer, PluginResult):
            answer = answer.to_json()
        return parse_result(json.dumps(answer))


__all__ = ["AppwriteFonteClient", "FakeFonteClient", "FonteClient", "fonte_request", "parse_result"]
