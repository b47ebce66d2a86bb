"""fonte-brasilapi: CNPJ (alphanumeric included), CEP v2, FIPE and BrasilAPI's error shapes, on the
examples of BrasilAPI's own OpenAPI docs (tests/fixtures/brasilapi/README.md)."""

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
    result, seen = execute(answer("cnpj_200"), "cnpj", cnpj="19.131.243/0001-97")
    assert str(seen[0].url) == "https://brasilapi.com.br/api/cnpj/v1/19131243000197"
    assert seen[0].method == "GET"
    assert result.status is Status.OK and not result.billable and result.provider_cost == 0
    data = result.data
    assert data["razao_social"] == "OPEN KNOWLEDGE BRASIL" and data["situacao_cadastral"] == "ATIVA"
    assert data["capital_social"] == 0.0  # the source's own zero, kept
    assert data["cnae_principal"] == {"codigo": "9430800",
                                      "descricao": "Atividades de associações de defesa de direitos sociais"}
    assert [c["codigo"] for c in data["cnaes_secundarios"]] == ["9493600", "9499500", "8599699", "8230001", "6204000"]
    assert data["endereco"]["logradouro"] == "AVENIDA PAULISTA 37" and data["endereco"]["uf"] == "SP"
    assert data["simples"] is None and data["mei"] is None  # null in the answer: unknown, not "no"
    assert data["socios"] == [{"nome": "HAYDEE SVAB", "qualificacao": "Presidente"}]


def test_alphanumeric_cnpj_goes_in_the_path_uppercase():
    result, seen = execute(answer("cnpj_alfanumerico_200"), "cnpj", cnpj="00.000.000/e08g-12")
    assert seen[0].url.path == "/api/cnpj/v1/00000000E08G12"
    assert result.status is Status.OK and result.data["cnpj"] == "00000000E08G12"


def test_cep_v2():
    result, seen = execute(answer("cep_v2_200"), "cep", cep="89010-025")
    assert seen[0].url.path == "/api/cep/v2/89010025"
    assert result.data == {"cep": "89010025", "uf": "SC", "municipio": "Blumenau", "bairro": "Centro",
                           "logradouro": "Rua Doutor Luiz de Freitas Melro"}


@pytest.mark.parametrize("name", ["cep_v2_404", "cep_v2_404_not_found"])
def test_cep_v2_404_is_unavailable_or_not_found_retryable_and_free(name):
    """BrasilAPI answers 404 when all its upstream CEP services fail (outages included): the next fonte
    may know the CEP, nothing is billed."""
    result, _ = execute(answer(name, 404), "cep", cep="89010025")
    assert result.status is Status.RETRYABLE and not result.billable
    assert result.errors[0].code == "unavailable_or_not_found"


def test_fipe_picks_the_model_year():
    result, seen = execute(answer("fipe_preco_200"), "fipe", codigo_fipe="001004-9", ano_modelo=1998)
    assert seen[0].url.path == "/api/fipe/preco/v1/001004-9"
    assert result.data["valor"] == 6022.0 and result.data["ano_modelo"] == 1998
    first, _ = execute(answer("fipe_preco_200"), "fipe", codigo_fipe="001004-9")
    assert first.data["valor"] == 6022.0 and first.data["mes_referencia"] == "junho de 2021"
    other_year, _ = execute(answer("fipe_preco_200"), "fipe", codigo_fipe="001004-9", ano_modelo=1997)
    assert other_year.status is Status.NOT_FOUND  # 1998's price is not 1997's


@pytest.mark.parametrize("name, status, query, params, expected", [
    ("cnpj_404", 404, "cnpj", {"cnpj": "11222333099960"}, Status.NOT_FOUND),
    ("cnpj_400", 400, "cnpj", {"cnpj": "11222333000181"}, Status.INPUT_ERROR),
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
    monkeypatch.setenv("BIGTECH_ENV", "production")
    monkeypatch.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", "")
    result, seen = execute(answer("cep_v2_200"), "cep", config={"base_url": base_url}, cep="89010025")
    assert seen == [] and result.status is Status.FAILED and not result.billable
    assert result.errors[0].code == "invalid_config"
