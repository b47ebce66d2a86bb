"""fonte-brasilapi: CNPJ (alphanumeric included), CEP v2, FIPE and BrasilAPI's error shapes."""

import httpx
import pytest

from bigtech.plugins import ExecuteRequest, Status, run_execute

from .conftest import fixture, load_plugin_module

brasilapi = load_plugin_module("fonte", "brasilapi", "brasilapi")


def execute(handler, query, config=None, **params):
    seen = []

    def transport(request):
        seen.append(request)
        return handler(request)

    plugin = brasilapi.BrasilApiFonte(transport=httpx.MockTransport(transport))
    body = ExecuteRequest(tenant_id="t1", request_id="r1", input={"query": query, **params}, config=config or {})
    return run_execute(plugin, body), seen


def answer(name, status=200):
    return lambda request: httpx.Response(status, json=fixture("brasilapi", name))


def test_cnpj():
    result, seen = execute(answer("cnpj_200"), "cnpj", cnpj="11.222.333/0001-81")
    assert str(seen[0].url) == "https://brasilapi.com.br/api/cnpj/v1/11222333000181"
    assert seen[0].method == "GET"
    assert result.status is Status.OK and not result.billable and result.provider_cost == 0
    data = result.data
    assert data["situacao_cadastral"] == "ATIVA" and data["capital_social"] == 50000.0
    assert data["cnae_principal"]["codigo"] == "4751201"
    assert data["endereco"]["logradouro"] == "AVENIDA PAULISTA" and data["endereco"]["uf"] == "SP"
    assert data["simples"] is True and data["mei"] is False
    assert data["socios"] == [{"nome": "JOAO EXEMPLO", "qualificacao": "Sócio-Administrador"}]


def test_alphanumeric_cnpj_goes_in_the_path_uppercase():
    result, seen = execute(answer("cnpj_alfanumerico_200"), "cnpj", cnpj="00.000.000/e08g-12")
    assert seen[0].url.path == "/api/cnpj/v1/00000000E08G12"
    assert result.status is Status.OK and result.data["cnpj"] == "00000000E08G12"
    assert result.data["cnaes_secundarios"] == []  # BrasilAPI's {"codigo": 0} placeholder is dropped


def test_cep_v2():
    result, seen = execute(answer("cep_v2_200"), "cep", cep="89010-025")
    assert seen[0].url.path == "/api/cep/v2/89010025"
    assert result.data == {"cep": "89010025", "uf": "SC", "municipio": "Blumenau", "bairro": "Centro",
                           "logradouro": "Rua Doutor Luiz de Freitas Melro"}


def test_fipe_picks_the_model_year():
    result, seen = execute(answer("fipe_preco_200"), "fipe", codigo_fipe="001004-9", ano_modelo=1997)
    assert seen[0].url.path == "/api/fipe/preco/v1/001004-9"
    assert result.data["valor"] == 5480.0 and result.data["ano_modelo"] == 1997
    first, _ = execute(answer("fipe_preco_200"), "fipe", codigo_fipe="001004-9")
    assert first.data["valor"] == 6022.0 and first.data["mes_referencia"] == "junho de 2021"


@pytest.mark.parametrize("name, status, query, params, expected", [
    ("cnpj_404", 404, "cnpj", {"cnpj": "11222333099960"}, Status.NOT_FOUND),
    ("cnpj_400", 400, "cnpj", {"cnpj": "11222333000181"}, Status.INPUT_ERROR),
    ("cep_v2_404", 404, "cep", {"cep": "99999999"}, Status.NOT_FOUND),
    ("fipe_preco_400", 400, "fipe", {"codigo_fipe": "999999-9"}, Status.INPUT_ERROR),
    ("error_500", 500, "cnpj", {"cnpj": "11222333000181"}, Status.RETRYABLE),
    ("error_500", 429, "cep", {"cep": "01310100"}, Status.RETRYABLE),
])
def test_error_shapes(name, status, query, params, expected):
    result, _ = execute(answer(name, status), query, **params)
    assert result.status is expected and not result.billable
    if expected is Status.INPUT_ERROR:
        assert result.errors[0].detail["type"] == "bad_request"


def test_empty_fipe_list_is_not_found():
    result, _ = execute(lambda r: httpx.Response(200, json=[]), "fipe", codigo_fipe="001004-9")
    assert result.status is Status.NOT_FOUND


@pytest.mark.parametrize("exc, code", [(httpx.ConnectTimeout("slow"), "timeout"),
                                       (httpx.ConnectError("refused"), "provider_unavailable")])
def test_network_failures_are_retryable(exc, code):
    def boom(request):
        raise exc

    result, _ = execute(boom, "cnpj", cnpj="11222333000181")
    assert result.status is Status.RETRYABLE and result.errors[0].code == code


def test_base_url_is_configurable_and_cpf_is_unsupported():
    _, seen = execute(answer("cep_v2_200"), "cep", config={"base_url": "https://brasilapi.com.br/mirror/api"},
                      cep="89010025")
    assert str(seen[0].url) == "https://brasilapi.com.br/mirror/api/cep/v2/89010025"
    result, seen = execute(answer("cep_v2_200"), "cpf", cpf="52998224725")
    assert result.errors[0].code == "unsupported_query" and seen == []


@pytest.mark.parametrize("base_url", ["https://127.0.0.1/api/", "https://169.254.169.254/api/", "https://[::1]/api/",
                                      "https://localhost/api/", "https://mirror.example.com/api/",
                                      "http://brasilapi.com.br/api/"])
def test_a_refused_base_url_fails_closed_without_a_request(base_url, monkeypatch):
    monkeypatch.delenv("BIGTECH_ENV", raising=False)
    result, seen = execute(answer("cep_v2_200"), "cep", config={"base_url": base_url}, cep="89010025")
    assert seen == [] and result.status is Status.FAILED and not result.billable
    assert result.errors[0].code == "invalid_config"
