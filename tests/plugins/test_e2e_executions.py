"""End to end on the local stack: CORE-style executions of consulta plugins, which call fonte plugins
through real nested Appwrite executions (with their own dynamic key, scope ``executions.write``)."""

import json

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.enums.execution_status import ExecutionStatus
from appwrite.services.functions import Functions

from bigtech.plugins import core_calls

CPF = "52998224725"


def execute(client, function_id, body=None, path="/execute", method=ExecutionMethod.POST):
    """As CORE executes a plugin: with a CORE token for this exact request (issue 9: CORE-only routes)."""
    raw = json.dumps(body) if body is not None else None
    execution = Functions(client).create_execution(
        function_id, body=raw, path=path, method=method,
        headers=core_calls.headers(function_id, method.value, path, raw))
    assert execution.status == ExecutionStatus.COMPLETED, execution.errors
    return execution.responsestatuscode, json.loads(execution.responsebody)


def test_plugin_manifest_through_an_execution(client):
    status, body = execute(client, "fonte-sandbox", path="/manifest", method=ExecutionMethod.GET)
    assert status == 200 and body["id"] == "fonte-sandbox"


def test_consulta_calls_the_sandbox_fonte_through_a_nested_execution(client):
    status, body = execute(client, "consulta-cadastral", {
        "tenant_id": "t-e2e", "request_id": "req-e2e-1", "input": {"document": CPF}, "fontes": ["fonte-sandbox"]})
    assert status == 200, body
    assert body["status"] == "ok"
    assert body["data"]["documento"] == {"tipo": "cpf", "numero": CPF}
    assert [(s["plugin"], s["status"]) for s in body["sources"]] == [("fonte-sandbox", "ok")]
    assert body["billable"] is True and body["provider_cost_cents"] == 5


def test_consulta_falls_back_from_a_failing_fonte_to_the_next(client):
    """BrasilAPI pointed at a loopback port is refused by the outbound guard (failed, free, no request),
    the sandbox answers; ``sources`` says so."""
    status, body = execute(client, "consulta-cadastral", {
        "tenant_id": "t-e2e", "request_id": "req-e2e-2", "input": {"document": "12.ABC.345/01DE-35"},
        "fontes": [{"id": "fonte-brasilapi", "config": {"base_url": "http://127.0.0.1:9/api/", "http_timeout": 2}},
                   {"id": "fonte-sandbox", "config": {"price": "0.07"}}]})
    assert status == 200, body
    assert body["status"] == "ok"
    assert [(s["plugin"], s["status"]) for s in body["sources"]] == [("fonte-brasilapi", "failed"),
                                                                     ("fonte-sandbox", "ok")]
    assert body["sources"][0]["error"]["code"] == "invalid_config"
    assert body["sources"][0]["billable"] is False
    assert body["provider_cost_cents"] == 7
    assert body["data"]["documento"]["numero"] == "12ABC34501DE35"


def test_forced_failure_and_undeployed_fonte_fall_back(client):
    status, body = execute(client, "consulta-credito", {
        "tenant_id": "t-e2e", "request_id": "req-e2e-3", "input": {"document": "12345699906"},
        "fontes": [{"id": "fonte-sandbox", "config": {"force_status": "retryable"}}, "fonte-nao-existe",
                   "fonte-sandbox"]})
    assert status == 200, body
    assert body["status"] == "not_found" and body["billable"] is True and body["data"]["nada_consta"] is True
    first = [(s["plugin"], s["status"], (s.get("error") or {}).get("code")) for s in body["sources"][:3]]
    assert first == [("fonte-sandbox", "retryable", "source_unavailable"),
                     ("fonte-nao-existe", "failed", "fonte_not_found"),
                     ("fonte-sandbox", "not_found", None)]


def test_veicular_asks_vehicle_then_fipe_through_executions(client):
    status, body = execute(client, "consulta-veicular", {
        "tenant_id": "t-e2e", "request_id": "req-e2e-4", "input": {"plate": "ABC-1234"}, "fontes": ["fonte-sandbox"]})
    assert status == 200, body
    assert body["status"] == "ok" and body["data"]["veiculo"]["placa_mercosul"] == "ABC1C34"
    assert [(s["query"], s["status"]) for s in body["sources"]] == [("veiculo", "ok"), ("fipe", "ok")]
    assert body["data"]["fipe"]["valor"] > 0
