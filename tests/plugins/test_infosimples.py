"""fonte-infosimples: the request format, every code of the reference table, billing, and masking.

Responses are recorded fixtures (tests/fixtures/infosimples) built from the documented envelope;
the network is replaced by ``httpx.MockTransport``.
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
    recorder = Recorder(fixture("infosimples", "ieptb-protestos_200"))
    execute(recorder, "protestos", config={"base_url": "https://api.infosimples.com/api/v2/consultas", "services":
                                           {"protestos": "cenprot-sp/protestos"}}, cnpj="11222333000181")
    assert str(recorder.requests[0].url) == "https://api.infosimples.com/api/v2/consultas/cenprot-sp/protestos"
    assert recorder.form["cnpj"] == "11222333000181"


def test_success_records_billing_and_receipts():
    result = execute(Recorder(fixture("infosimples", "receita-federal-cpf_200")))
    assert result.status is Status.OK
    assert result.billable is True and result.provider_cost == Decimal("0.2")
    assert result.data["cpf"] == CPF and result.data["situacao_cadastral"] == "REGULAR"
    assert result.data["data_nascimento"] == "1990-01-31"
    meta = result.sources[0].meta
    assert meta["service"] == "receita-federal/cpf" and meta["price"] == "0.2"
    assert meta["requested_at"].startswith("2026-01-15") and meta["site_receipts"]


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
    622: (Status.RETRYABLE, False, "duplicate_query"),
}


def test_the_table_covers_every_reference_code():
    assert set(codes.CODE_TABLE) == {200, *EXPECTED}


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


def test_622_with_data_is_served():
    result = execute(Recorder(fixture("infosimples", "code_622_with_data")))
    assert result.status is Status.OK and result.data["cpf"] == CPF and result.billable is False


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


@pytest.mark.parametrize("name, query, params", [
    ("receita-federal-cnpj_200", "cnpj", {"cnpj": "11222333000181"}),
    ("receita-federal-cnpj-alfanumerico_200", "cnpj", {"cnpj": "12ABC34501DE35"}),
    ("correios-cep_200", "cep", {"cep": "01310100"}),
    ("senatran-veiculo_200", "veiculo", {"placa": "ABC1D23"}),
    ("ieptb-protestos_200", "protestos", {"cpf": CPF}),
    ("bcb-cheques-sem-fundo_200", "cheques", {"cpf": CPF}),
    ("receita-federal-pgfn_200", "pgfn", {"cpf": CPF}),
])
def test_normalizers(name, query, params):
    result = execute(Recorder(fixture("infosimples", name)), query, **params)
    assert result.status is Status.OK
    data = result.data
    if query == "cnpj":
        assert data["cnpj"] == params["cnpj"] and data["razao_social"]
        assert data["cnae_principal"]["codigo"].isdigit()
    if name == "receita-federal-cnpj_200":
        assert data["capital_social"] == 50000.0 and data["endereco"]["cep"] == "01310100"
        assert data["cnae_principal"]["codigo"] == "4751201"
        assert data["cnae_principal"]["descricao"].startswith("Comércio varejista especializado")
        assert data["socios"] == [{"nome": "JOAO EXEMPLO", "qualificacao": "49-Sócio-Administrador"}]
    if query == "veiculo":
        assert (data["marca"], data["modelo"], data["ano_modelo"]) == ("FIAT", "PALIO EX", 1998)
        assert data["existe_restricao"] is True and data["roubo_furto"] is False and data["codigo_fipe"] == "001004-9"
    if query == "protestos":
        assert data == {"total": 2, "valor_total": 1750.5, "registros": [
            {"cartorio": "1º Tabelião de Protesto de Letras e Títulos", "cidade": "SAO PAULO", "uf": "SP",
             "valor": 1500.0, "data": "2024-02-10"},
            {"cartorio": "1º Tabelião de Protesto de Letras e Títulos", "cidade": "SAO PAULO", "uf": "SP",
             "valor": 250.5, "data": "2024-06-03"}]}
    if query == "cheques":
        assert data["total"] == 3 and data["registros"][0]["data_ultimo"] == "2024-11-20"
    if query == "pgfn":
        assert data["total"] == 1 and data["valor_total"] == 12345.67
