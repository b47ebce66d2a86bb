"""fonte-infosimples: the request format, every code of the reference table, billing, and masking.

Responses are the sourced fixtures of tests/fixtures/infosimples (README.md there says where each
comes from); the network is replaced by ``httpx.MockTransport``.
"""

from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest

from bigtech.plugins import ExecuteRequest, Status, run_execute
from tests.support.fake_context import FakeContext, FakeRequest

from .conftest import fixture, load_plugin_module

codes = load_plugin_module("fonte", "infosimples", "codes")
infosimples = load_plugin_module("fonte", "infosimples", "infosimples")
TOKEN = "tok-secret-123456"
CPF = "52998224725"


class Recorder:
    def __init__(self, body=None, status=200, exc=None):
        self.body, self.status, self.exc = body, status, exc
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.exc is not None:
            raise self.exc
        if isinstance(self.body, bytes):
            return httpx.Response(self.status, content=self.body)
        return httpx.Response(self.status, json=self.body)

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.requests[-1].content.decode()).items()}


def execute(recorder, query="cpf", config=None, runtime=None, **params):
    plugin = infosimples.InfosimplesFonte(transport=httpx.MockTransport(recorder))
    if query == "cpf" and not params:
        params = {"cpf": CPF, "birthdate": "1990-01-31"}
    body = ExecuteRequest(tenant_id="t1", request_id="r1", input={"query": query, **params},
                          config={"token": TOKEN, **(config or {})})
    return run_execute(plugin, body, runtime)


def test_request_is_a_form_encoded_post_with_token_and_timeout():
    recorder = Recorder(fixture("infosimples", "receita-federal-cpf_200"))
    execute(recorder)
    request = recorder.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.infosimples.com/api/v2/consultas/receita-federal/cpf"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in request.headers
    assert recorder.form == {"token": TOKEN, "timeout": "20", "cpf": CPF, "birthdate": "1990-01-31"}


def test_http_timeout_is_longer_than_the_timeout_parameter():
    recorder = Recorder(fixture("infosimples", "receita-federal-cpf_200"))
    execute(recorder, config={"timeout": 15, "http_timeout_margin": 7})
    assert recorder.form["timeout"] == "15"
    assert recorder.requests[0].extensions["timeout"]["read"] == 22


def test_base_url_and_service_overrides():
    recorder = Recorder(fixture("infosimples", "cenprot-sp-protestos_200"))
    execute(recorder, "protestos", config={"base_url": "https://api.infosimples.com/api/v2/consultas", "services":
                                           {"protestos": "cenprot-sp/protestos"}}, cnpj="11222333000181")
    assert str(recorder.requests[0].url) == "https://api.infosimples.com/api/v2/consultas/cenprot-sp/protestos"
    assert recorder.form["cnpj"] == "11222333000181"


def test_success_records_billing_and_receipts():
    result = execute(Recorder(fixture("infosimples", "receita-federal-cpf_200")))
    assert result.status is Status.OK
    assert result.billable is True and result.provider_cost == Decimal("0.2")
    # the documentation example's own (placeholder) values, normalised
    assert result.data["cpf"] == "12345678901" and result.data["situacao_cadastral"] == "ATIVA"
    assert result.data["nome"] == "Exemplo de Nome" and result.data["data_nascimento"] == "1111-11-11"
    meta = result.sources[0].meta
    assert meta["service"] == "receita-federal/cpf" and meta["price"] == "0.2"
    assert meta["requested_at"].startswith("2023-09-29") and meta["site_receipts"]


# code → (status, billable, error code) per shared/reference/data-sources.md §1.3
EXPECTED = {
    600: (Status.RETRYABLE, False, "unexpected_error"),
    601: (Status.RETRYABLE, False, "invalid_token"),
    602: (Status.RETRYABLE, False, "invalid_service"),
    603: (Status.RETRYABLE, False, "token_not_authorised"),
    604: (Status.RETRYABLE, False, "parameter_validation_failed"),
    605: (Status.RETRYABLE, False, "timeout"),
    606: (Status.INPUT_ERROR, True, "missing_parameters"),
    607: (Status.INPUT_ERROR, True, "invalid_parameters"),
    608: (Status.INPUT_ERROR, True, "refused_by_source"),
    609: (Status.RETRYABLE, False, "max_attempts_exceeded"),
    610: (Status.RETRYABLE, False, "captcha_failure"),
    611: (Status.FAILED, True, "incomplete_data"),
    612: (Status.NOT_FOUND, True, None),
    613: (Status.RETRYABLE, False, "blocked_by_source"),
    614: (Status.RETRYABLE, False, "source_unexpected_error"),
    615: (Status.RETRYABLE, False, "source_unavailable"),
    616: (Status.FAILED, True, "source_error"),
    617: (Status.RETRYABLE, False, "infosimples_overloaded"),
    618: (Status.RETRYABLE, False, "source_overloaded"),
    619: (Status.FAILED, True, "parameter_changed_at_source"),
    620: (Status.FAILED, True, "permanent_source_error"),
    621: (Status.RETRYABLE, False, "receipt_error"),
    622: (Status.FAILED, False, "duplicate_query"),
}


def test_the_table_covers_every_reference_code():
    assert set(codes.CODE_TABLE) == {200, 201, *EXPECTED}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_code_maps_from_its_recorded_response(code):
    status, billable, error = EXPECTED[code]
    result = execute(Recorder(fixture("infosimples", f"code_{code}")))
    assert result.status is status
    assert result.billable is billable
    assert result.provider_cost == (Decimal("0.2") if billable else Decimal("0"))
    assert (result.errors[0].code if result.errors else None) == error
    assert result.data is None
    if error:
        assert result.errors[0].detail["provider_code"] == code
    assert result.sources[0].meta["provider_code"] == code


def test_config_alert_codes_are_flagged():
    for code in (601, 602, 603):
        result = execute(Recorder(fixture("infosimples", f"code_{code}")))
        assert result.errors[0].detail["config_alert"] is True


def test_616_follows_header_billable():
    result = execute(Recorder(fixture("infosimples", "code_616_not_billable")))
    assert result.status is Status.RETRYABLE and result.billable is False


def test_201_several_results_is_a_billable_success():
    result = execute(Recorder(fixture("infosimples", "code_201")))
    assert result.status is Status.OK and result.billable is True and result.provider_cost == Decimal("0.2")
    assert result.data["cpf"] == "12345678901" and result.sources[0].meta["data_count"] == 2


def test_622_is_not_retried_alerts_and_throttles_the_same_query():
    """622 = the same query hammered: no data served, an alert, and the next identical query is held
    back without calling Infosimples (a different document still goes through)."""
    recorder = Recorder(fixture("infosimples", "code_622"))
    plugin = infosimples.InfosimplesFonte(transport=httpx.MockTransport(recorder))
    context = FakeContext(FakeRequest())

    def run(cpf):
        body = ExecuteRequest(tenant_id="t1", request_id="r1",
                              input={"query": "cpf", "cpf": cpf, "birthdate": "1990-01-31"}, config={"token": TOKEN})
        return run_execute(plugin, body, context)

    first = run(CPF)
    assert first.status is Status.FAILED and not first.billable and first.data is None
    assert first.errors[0].code == "duplicate_query"
    assert first.errors[0].detail["alert"] is True and first.errors[0].detail["retry"] is False
    assert any("ALERT" in line and "622" in line for line in context.errors)
    assert CPF not in " ".join(context.errors)
    again = run(CPF)
    assert again.errors[0].code == "duplicate_query_throttled" and len(recorder.requests) == 1
    run("11144477735")
    assert len(recorder.requests) == 2


def test_header_billable_wins_over_the_table():
    body = fixture("infosimples", "receita-federal-cpf_200")
    body["header"]["billable"] = False
    result = execute(Recorder(body))
    assert result.status is Status.OK and result.billable is False and result.provider_cost == 0


def test_unknown_codes():
    body = fixture("infosimples", "code_600")
    body["code"] = 699
    assert execute(Recorder(body)).status is Status.RETRYABLE
    body["header"]["billable"] = True
    assert execute(Recorder(body)).status is Status.FAILED


@pytest.mark.parametrize("recorder, code", [
    (Recorder(exc=httpx.ReadTimeout("slow")), "timeout"),
    (Recorder(exc=httpx.ConnectError("refused")), "provider_unavailable"),
    (Recorder({"oops": True}, status=502), "provider_unavailable"),
    (Recorder(b"<html>maintenance</html>"), "invalid_provider_response"),
])
def test_transport_failures_are_retryable_and_free(recorder, code):
    result = execute(recorder)
    assert result.status is Status.RETRYABLE and result.errors[0].code == code and not result.billable


def test_cpf_without_birthdate_is_skipped_without_calling():
    recorder = Recorder(fixture("infosimples", "code_606"))
    result = execute(recorder, cpf=CPF)
    assert recorder.requests == []
    assert result.status is Status.FAILED and not result.billable and result.errors[0].code == "missing_birthdate"


def test_missing_token_is_an_invalid_config_without_calling():
    recorder = Recorder(fixture("infosimples", "receita-federal-cpf_200"))
    plugin = infosimples.InfosimplesFonte(transport=httpx.MockTransport(recorder))
    body = ExecuteRequest(tenant_id="t1", request_id="r1", input={"query": "cnpj", "cnpj": "11222333000181"})
    result = run_execute(plugin, body)
    assert result.status is Status.FAILED and result.errors[0].code == "invalid_config" and recorder.requests == []


def test_unsupported_queries():
    result = execute(Recorder({}), "fipe", codigo_fipe="001004-9")
    assert result.status is Status.FAILED and result.errors[0].code == "unsupported_query"


def test_logs_mask_the_document_and_never_show_the_token():
    context = FakeContext(FakeRequest())
    execute(Recorder(fixture("infosimples", "receita-federal-cpf_200")), runtime=context)
    execute(Recorder(exc=httpx.ConnectError("refused")), runtime=context)
    logs = " ".join(context.logs + context.errors)
    assert "***.982.247-**" in logs
    assert CPF not in logs and TOKEN not in logs


def test_cnpj_reads_the_secondary_activity_list():
    result = execute(Recorder(fixture("infosimples", "receita-federal-cnpj_200")), "cnpj", cnpj="13006439000173")
    assert result.status is Status.OK
    data = result.data
    assert data["cnpj"] == "13006439000173" and data["razao_social"].startswith("LUME ENGENHARIA")
    assert data["cnae_principal"] == {"codigo": "7112000", "descricao": "Serviços de engenharia"}
    assert [c["codigo"] for c in data["cnaes_secundarios"]] == ["4329199", "4330499", "4679603", "7732201"]
    assert data["cnaes_secundarios"][1]["descricao"] == "Outras obras de acabamento da construção"
    assert data["capital_social"] == 300000.0 and data["endereco"]["cep"] == "22790851"
    assert data["porte"] is None  # "" in the answer: absent, not invented
    assert data["socios"][0] == {"nome": "RODRIGO DE JESUS FERNANDES SAMPAIO", "qualificacao": "Sócio-Administrador"}


def test_cnpj_falls_back_to_splitting_the_joined_string():
    body = fixture("infosimples", "receita-federal-cnpj_200")
    del body["data"][0]["atividade_economica_secundaria_lista"]
    result = execute(Recorder(body), "cnpj", cnpj="13006439000173")
    assert len(result.data["cnaes_secundarios"]) == 4


def test_cenprot_sp_cartorios_keyed_by_uf():
    result = execute(Recorder(fixture("infosimples", "cenprot-sp-protestos_200")), "protestos",
                     config={"services": {"protestos": "cenprot-sp/protestos"}}, cnpj="11222333000181")
    assert result.status is Status.OK and result.billable and result.provider_cost == Decimal("0.24")
    assert result.data == {"total": 1, "valor_total": 15057.99, "registros": [
        {"cartorio": "Exemplo de Nome", "cidade": "São Paulo", "uf": "SP", "valor": 5181.58, "data": None}]}


def test_pgfn_asks_the_debtor_list_and_reads_its_debts():
    recorder = Recorder(fixture("infosimples", "receita-federal-pgfn-devedores_200"))
    result = execute(recorder, "pgfn", cnpj="11222333000181")
    assert str(recorder.requests[0].url).endswith("/receita-federal/pgfn/devedores")
    assert result.status is Status.OK and result.billable
    assert result.data == {"total": 1, "valor_total": 29544029.81, "inscricoes": [
        {"numero": "111111111111", "natureza": "FGTS", "situacao": None, "valor": 16745.1}]}


def test_pgfn_not_on_the_list_is_not_found():
    result = execute(Recorder(fixture("infosimples", "receita-federal-pgfn-devedores_nao_encontrado")), "pgfn",
                     cnpj="11222333000181")
    assert result.status is Status.NOT_FOUND and result.data is None


@pytest.mark.parametrize("query, params", [
    ("pgfn", {"cnpj": "11222333000181"}),      # e.g. the CND certificate configured as the pgfn service
    ("veiculo", {"placa": "ABC1D23"}),         # no public example for senatran/veiculo
    ("cheques", {"cpf": CPF}),                 # no public example for bcb/cheques-sem-fundo
    ("cep", {"cep": "01310100"}),              # no public example for correios/cep
    ("protestos", {"cpf": CPF}),
])
def test_an_unknown_shape_is_a_clear_non_billable_error(query, params):
    body = fixture("infosimples", "receita-federal-cpf_200")
    body["data"] = [{"tipo": "Negativa", "debitos_pgfn": False, "debitos_rfb": False}]
    result = execute(Recorder(body), query, **params)
    assert result.status is Status.FAILED and result.billable is False and result.data is None
    assert result.errors[0].code == "unrecognised_response"
    assert result.sources[0].meta["provider_billable"] is True and result.sources[0].meta["price"] == "0.2"
