"""Run the consulta plugin: one synchronous execution of ``consulta-<category>`` ``POST /execute``.

Every way the call can break becomes a ``PluginResult`` (never an exception), so the settlement has one
thing to look at: Appwrite's 408 (sync executions wait at most 30 s) → ``retryable``/``timeout``; a
plugin that cannot be executed or answers non-200 → ``failed``/``plugin_unavailable``, not billable.
Both release the reservation.
"""

from __future__ import annotations

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.services.functions import Functions

from bigtech.plugin_loader.routing import Route
from bigtech.plugins import ConsultaInput, ExecuteRequest, PluginResult, Status, core_calls
from bigtech.plugins.fonte_client import parse_result


def run(functions: Functions, route: Route, tenant_id: str, request_id: str, lookup: ConsultaInput) -> PluginResult:
    body = ExecuteRequest(tenant_id=tenant_id, request_id=request_id, input=lookup.to_json(), config=route.config,
                          fontes=route.fontes).model_dump_json()
    try:
        execution = functions.create_execution(route.plugin_id, body=body, xasync=False, path="/execute",
                                               method=ExecutionMethod.POST,
                                               headers=core_calls.headers(route.plugin_id, "POST", "/execute", body))
    except AppwriteException as error:
        if error.code == 408:
            return PluginResult.error(Status.RETRYABLE, "timeout", "The consulta did not finish in time.")
        return PluginResult.error(Status.FAILED, "plugin_unavailable", "The consulta plugin could not be executed.",
                                  detail={"appwrite_code": error.code, "appwrite_type": error.type})
    status = getattr(execution.status, "value", execution.status)
    if status != "completed" or int(execution.responsestatuscode or 0) != 200:
        return PluginResult.error(Status.FAILED, "plugin_unavailable",
                                  f"The consulta plugin answered HTTP {execution.responsestatuscode}.",
                                  detail={"execution_id": execution.id})
    return parse_result(execution.responsebody)
