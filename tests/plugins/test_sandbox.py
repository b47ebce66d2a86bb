"""fonte-sandbox: deterministic data for every query and the documented magic inputs."""

import pytest

from bigtech.plugins import ExecuteRequest, PluginResult, Status, run_execute
from bigtech.plugins.fonte import QUERIES

from .conftest import load_plugin_module

QUERY_INPUTS = {
    "cpf": {"cpf": "52998224725"},
    "cnpj": {"cnpj": "12ABC34501DE35"},
    "cep": {"cep": "01310200"},
    "veiculo": {"placa": "ABC1D23"},
    "fipe": {"codigo_fipe": "001004-9"},
    "protestos": {"cpf": "52998224725"},
    "cheques": {"cnpj": "11222333000181"},
    "pgfn": {"cpf": "52998224725"},
    "score": {"cpf": "52998224725"},
}


def run(plugin, query, config=None, **params) -> PluginResult:
    body = ExecuteRequest(tenant_id="t1", request_id="r1", input={"query": query, **params}, config=config or {})
    return run_execute(plugin, body)


@pytest.mark.parametrize("query", QUERIES)
def test_every_query_is_answered_deterministically(sandbox, query):
    first = run(sandbox, query, **QUERY_INPUTS[query])
    second = run(sandbox, query, **QUERY_INPUTS[query])
    assert first.status is Status.OK and first.data
    assert first == second
    assert first.billable is True and str(first.provider_cost) == "0.05"


def test_different_inputs_give_different_data(sandbox):
    names = {run(sandbox, "cpf", cpf=cpf).data["nome"] for cpf in ("52998224725", "12345600110", "11144477735")}
    assert len(names) > 1


@pytest.mark.parametrize("params, status, code, billable", [
    ({"cpf": "12345699906"}, Status.NOT_FOUND, None, True),
    ({"cpf": "12345699817"}, Status.INPUT_ERROR, "refused_by_source", True),
    ({"cpf": "12345699736"}, Status.RETRYABLE, "timeout", False),
    ({"cpf": "12345699655"}, Status.RETRYABLE, "source_unavailable", False),
    ({"cpf": "12345699574"}, Status.FAILED, "source_error", True),
    ({"cnpj": "11222333099960"}, Status.NOT_FOUND, None, True),
    ({"cnpj": "12ABC345099966"}, Status.NOT_FOUND, None, True),
    ({"cnpj": "12ABC345099613"}, Status.RETRYABLE, "source_unavailable", False),
])
def test_magic_documents(sandbox, params, status, code, billable):
    query = "cpf" if "cpf" in params else "cnpj"
    result = run(sandbox, query, **params)
    assert result.status is status
    assert result.billable is billable
    assert (result.errors[0].code if result.errors else None) == code
    assert result.data is None


@pytest.mark.parametrize("plate, status", [("ABC1D99", Status.NOT_FOUND), ("ABC1298", Status.INPUT_ERROR),
                                           ("ABC1D96", Status.RETRYABLE), ("ABC1D95", Status.FAILED)])
def test_magic_plates(sandbox, plate, status):
    assert run(sandbox, "veiculo", placa=plate).status is status


def test_magic_renavam_cep_and_fipe(sandbox):
    assert run(sandbox, "veiculo", renavam="01234569997").status is Status.NOT_FOUND
    assert run(sandbox, "cep", cep="01310999").status is Status.NOT_FOUND
    assert run(sandbox, "fipe", codigo_fipe="001999-1").status is Status.NOT_FOUND


def test_magic_inputs_pass_core_validation():
    from bigtech.plugins import validate_input

    for document in ("12345699906", "12345699817", "12345699736", "12345699655", "12345699574",
                     "11222333099960", "12ABC345099966"):
        validate_input("cadastral", {"document": document})
    validate_input("veicular", {"plate": "ABC1D99", "renavam": "01234569997"})


def test_force_status_overrides_everything(sandbox):
    result = run(sandbox, "cpf", config={"force_status": "retryable"}, cpf="52998224725")
    assert result.status is Status.RETRYABLE and not result.billable


def test_timeout_magic_sleeps_when_configured(sandbox):
    import time

    started = time.monotonic()
    result = run(sandbox, "cpf", config={"timeout_sleep_seconds": 0.2}, cpf="12345699736")
    assert time.monotonic() - started >= 0.2
    assert result.status is Status.RETRYABLE


def test_invalid_params_are_a_free_input_error(sandbox):
    result = run(sandbox, "cpf", cpf="52998224724")
    assert result.status is Status.INPUT_ERROR and result.errors[0].code == "invalid_params"
    assert not result.billable
    assert "52998224724" not in result.errors[0].message


def test_vehicle_data_is_consistent_with_the_fipe_query(sandbox):
    vehicle = run(sandbox, "veiculo", placa="ABC1D23").data
    fipe = run(sandbox, "fipe", codigo_fipe=vehicle["codigo_fipe"], ano_modelo=vehicle["ano_modelo"]).data
    assert fipe["codigo_fipe"] == vehicle["codigo_fipe"] and fipe["marca"] == vehicle["marca"]
    assert fipe["ano_modelo"] == vehicle["ano_modelo"]


def test_module_constants_are_documented():
    module = load_plugin_module("fonte", "sandbox", "sandbox")
    for suffix in module.MAGIC:
        assert suffix in (module.__doc__ or "")


DOC_TABLE = {  # docs/plugins.md "Ready-made documents"
    "ok": ("52998224725", "11222333000181", "12ABC34501DE35", "01234567897", "ABC1D23"),
    "not_found": ("12345699906", "11222333099960", "12ABC345099966", "01234569997", "ABC1D99"),
    "input_error": ("12345699817", "11222333099889", "12ABC345099885", "01234569989", "ABC1D98"),
    "retryable": ("12345699736", "11222333099706", "12ABC345099702", "01234569970", "ABC1D97"),
    "retryable ": ("12345699655", "11222333099617", "12ABC345099613", "01234569962", "ABC1D96"),
    "failed": ("12345699574", "11222333099536", "12ABC345099532", "01234569954", "ABC1D95"),
}


@pytest.mark.parametrize("outcome", DOC_TABLE)
def test_documented_ready_made_documents(sandbox, outcome):
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "plugins.md").read_text()
    cpf, cnpj, alnum, renavam, plate = DOC_TABLE[outcome]
    results = [run(sandbox, "cpf", cpf=cpf), run(sandbox, "cnpj", cnpj=cnpj), run(sandbox, "cnpj", cnpj=alnum),
               run(sandbox, "veiculo", renavam=renavam), run(sandbox, "veiculo", placa=plate)]
    assert {r.status.value for r in results} == {outcome.strip()}
    for value in DOC_TABLE[outcome]:
        assert f"`{value}`" in docs
