"""Calling a plugin's lifecycle routes (``POST /enable``, ``/disable``, ``/install``) through executions.

The body is a ``LifecycleRequest`` (tenant id + the effective config, secrets included: it travels only
over Appwrite's execution channel). A plugin refusing the config answers 422 with field errors, which
are passed on unchanged (they never echo values); anything else that is not a 200 means the plugin
cannot be reached, a 502 for our caller, and the change is not made.
"""

from __future__ import annotations

import json
from typing import Any

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from ..errors import BigtechError, Unprocessable
from ..plugins import core_calls
from ..plugins.contract import LifecycleRequest

ACTIONS = ("install", "enable", "disable")


class PluginUnavailable(BigtechError):
    """The plugin function could not be executed, or answered something other than 200/422."""

    status = 502
    default_code = "plugin_unavailable"
    default_message = "The plugin could not be reached."


def call(functions: Functions, plugin_id: str, action: str, tenant_id: str | None,
         config: dict[str, Any] | None = None) -> dict[str, Any]:
    if action not in ACTIONS:
        raise ValueError(f"unknown lifecycle action {action!r}")
    body = LifecycleRequest(tenant_id=tenant_id, config=config or {}).model_dump_json()
    try:
        execution = functions.create_execution(plugin_id, body=body, xasync=False, path=f"/{action}",
                                               method=ExecutionMethod.POST,
                                               headers=core_calls.headers(plugin_id, "POST", f"/{action}", body))
    except AppwriteException as error:
        raise PluginUnavailable(f"{plugin_id} could not be executed ({error.code} {error.type}).",
                                details={"plugin_id": plugin_id, "action": action}) from None
    status = int(execution.responsestatuscode or 0)
    try:
        answer = json.loads(execution.responsebody or "null")
    except ValueError:
        answer = None
    if status == 200:
        return answer if isinstance(answer, dict) else {}
    if status == 422 and isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        refusal = answer["error"]
        raise Unprocessable(f"{plugin_id} refused the config: {refusal.get('message') or 'invalid'}",
                            code=str(refusal.get("code") or "invalid_config"), details=refusal.get("details"))
    raise PluginUnavailable(f"{plugin_id} answered HTTP {status} to {action}.",
                            details={"plugin_id": plugin_id, "action": action, "status": status})


__all__ = ["ACTIONS", "PluginUnavailable", "call"]
