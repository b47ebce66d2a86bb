"""Consulta plugins over a fake fonte client: fallback, ``sources``, billing, category schemas."""

from decimal import Decimal

import httpx
import pytest

from bigtech.plugins import (
    ExecuteRequest,
    FakeFonteClient,
    FonteRef,
    FonteRun,
    PluginContext,
    PluginResult,
    Status,
    falls_back,
    run_execute,
)
from bigtech.plugins.categories import problems

from .conftest import fixture, load_plugin_module

CPF, CNPJ, ALNUM = "52998224725", "11222333000181", "12ABC34501DE35"


CLASSES = {"cadastral": "CadastralConsulta", "veicular": "VeicularConsulta", "credito": "CreditoConsulta"}


def consulta(nome):
    return getattr(load_plugin_module("consulta", nome, nome), CLASSES[nome])


def run(nome, client, input, fontes=None, config=None) -> PluginResult:
    plugin = consulta(nome)(fonte_client=client)
    body = ExecuteRequest(tenant_id="t1", request_id="req-1", input=input, config=config or {},
                          fontes=fontes if fontes is not None else ["fonte-a", "fonte-b"])
    return run_execute(plugin, body)


def down(request):
    return PluginResult.error(Status.RETRYABLE, "source_unavailable", "down")


@pytest.fixture
def fake(sandbox):
    return FakeFonteClient({"fonte-a": down, "fonte-b": sandbox, "fonte-sandbox": sandbox})


def test_falls_back_from_a_failing_fonte_and_says_so_in_sources(fake):
    result = run("cadastral", fake, {"document": CPF})
    assert result.status is Status.OK
    assert [(s.plugin, s.status) for s in result.sources] == [("fonte-a", Status.RETRYABLE), ("fonte-b", Status.OK)]
    assert result.sources[0].error.code == "source_unavailable" and result.sources[0].billable is False
    assert result.sources[1].billable is True and result.sources[1].query == "cpf"
    assert result.billable is True and result.provider_cost == Decimal("0.05")
    assert result.data["documento"] == {"tipo": "cpf", "numero": CPF}
    assert [c[0] for c in fake.calls] == ["fonte-a", "fonte-b"]
    assert fake.calls[0][1] == {"query": "cpf", "cpf": CPF}


def test_first_fonte_answering_stops_the_search(fake):
    result = run("cadastral", fake, {"document": ALNUM}, fontes=["fonte-b", "fonte-a"])
    assert result.status is Status.OK and [s.plugin for s in result.sources] == ["fonte-b"]
    assert result.data["pessoa_juridica"]["endereco"]["uf"]
    assert problems("cadastral", result.data) == []


@pytest.mark.parametrize("document, status, billable", [
    ("12345699906", Status.NOT_FOUND, True),     # nada consta: billable, no fallback
    ("12345699817", Status.INPUT_ERROR, True),   # refused by the source: billable, no fallback
    ("12345699574", Status.FAILED, True),        # paid but unusable: no fallback (would pay twice)
])
def test_answers_that_stop_the_fallback(sandbox, document, status, billable):
    client = FakeFonteClient({"fonte-a": sandbox, "fonte-b": sandbox})
    result = run("cadastral", client, {"document": document})
    assert result.status is status and result.billable is billable
    assert [s.plugin for s in result.sources] == ["fonte-a"]
    assert result.data is None


@pytest.mark.parametrize("document", ["12345699736", "12345699655"])  # timeout, source down
def test_retryable_magic_inputs_fall_through_every_fonte(sandbox, document):
    client = FakeFonteClient({"fonte-a": sandbox, "fonte-b": sandbox})
    result = run("cadastral", client, {"document": document})
    assert result.status is Status.RETRYABLE and not result.billable
    assert [s.status for s in result.sources] == [Status.RETRYABLE, Status.RETRYABLE]
    assert result.errors[0].code == "all_fontes_failed"
    assert result.errors[0].detail["tried"] == ["fonte-a", "fonte-b"]


def test_non_billable_failures_fall_back_but_unsupported_fontes_are_not_listed(sandbox):
    unsupported = PluginResult.error(Status.FAILED, "unsupported_query", "no")
    client = FakeFonteClient({"fonte-x": unsupported, "fonte-b": sandbox})  # fonte-missing: not deployed
    result = run("cadastral", client, {"document": CPF}, fontes=["fonte-x", "fonte-missing", "fonte-b"])
    assert result.status is Status.OK
    assert [(s.plugin, s.status) for s in result.sources] == [("fonte-missing", Status.FAILED), ("fonte-b", Status.OK)]
    assert result.sources[0].error.code == "fonte_not_found"


def test_no_fonte_answering_the_query():
    client = FakeFonteClient({"fonte-a": PluginResult.error(Status.FAILED, "unsupported_query", "no")})
    result = run("cadastral", client, {"document": CPF}, fontes=["fonte-a"])
    assert result.status is Status.FAILED and result.errors[0].code == "no_fonte_for_query" and result.sources == []


def test_invalid_input_never_reaches_a_fonte(fake):
    result = run("cadastral", fake, {"document": "52998224724"})
    assert result.status is Status.INPUT_ERROR and result.errors[0].code == "invalid_input"
    assert fake.calls == [] and not result.billable


def test_fonte_configs_travel_with_the_fonte(sandbox):
    seen = []

    def spy(request):
        seen.append(request.config)
        return run_execute(sandbox, request)

    client = FakeFonteClient({"fonte-a": spy})
    run("cadastral", client, {"document": CPF}, fontes=[{"id": "fonte-a", "config": {"price": "1.50"}}])
    assert seen == [{"price": "1.50"}]


def test_fontes_default_to_config_then_manifest(sandbox):
    client = FakeFonteClient({"fonte-sandbox": sandbox})
    result = run("cadastral", client, {"document": CPF}, fontes=[], config={"fontes": ["fonte-sandbox"]})
    assert [s.plugin for s in result.sources] == ["fonte-sandbox"]
    fallback = FakeFonteClient({})
    result = run("cadastral", fallback, {"document": CPF}, fontes=[])
    assert [c[0] for c in fallback.calls] == ["fonte-brasilapi", "fonte-infosimples"]


def test_budget_exhausted_lists_untried_fontes(sandbox):
    ticks = iter([0.0, 0.0, 30.0, 30.0, 30.0])
    ctx = PluginContext(tenant_id="t1", request_id="r1")
    run_ = FonteRun(FakeFonteClient({"fonte-a": down, "fonte-b": sandbox}), ctx,
                    [FonteRef(id="fonte-a"), FonteRef(id="fonte-b")], budget_seconds=25, clock=lambda: next(ticks))
    outcome = run_.ask("cpf", {"cpf": CPF})
    assert [(a.plugin, a.error.code) for a in outcome.attempts] == [("fonte-a", "source_unavailable"),
                                                                      ("fonte-b", "budget_exhausted")]
    assert outcome.result is None and outcome.status is Status.RETRYABLE


def test_falls_back_rule():
    assert falls_back(PluginResult.error(Status.RETRYABLE, "x"))
    assert falls_back(PluginResult.error(Status.FAILED, "x"))
    assert not falls_back(PluginResult.error(Status.FAILED, "x", billable=True))
    assert not falls_back(PluginResult.error(Status.INPUT_ERROR, "x"))
    assert not falls_back(PluginResult(status=Status.NOT_FOUND))


def test_broken_normalization_is_failed_with_billing_kept():
    data = {"cpf": CPF, "situacao_cadastral": "REGULAR", "data_situacao": "31/12/2020"}
    bad = PluginResult(status=Status.OK, data=data,
                       billable=True, provider_cost=Decimal("0.2"))
    result = run("cadastral", FakeFonteClient({"fonte-a": bad}), {"document": CPF}, fontes=["fonte-a"])
    assert result.status is Status.FAILED and result.errors[0].code == "invalid_data"
    assert result.billable is True and result.provider_cost == Decimal("0.2")
    assert CPF not in str(result.errors[0].detail)


# -- veicular ------------------------------------------------------------------------------------


def test_veicular_with_fipe_value(sandbox):
    result = run("veicular", FakeFonteClient({"fonte-a": sandbox}), {"plate": "ABC1234"}, fontes=["fonte-a"])
    assert result.status is Status.OK
    assert [s.query for s in result.sources] == ["veiculo", "fipe"]
    assert result.data["veiculo"]["placa"] == "ABC1234" and result.data["veiculo"]["placa_mercosul"] == "ABC1C34"
    assert result.data["fipe"]["valor"] > 0
    assert result.data["fipe"]["codigo_fipe"] == result.data["veiculo"]["codigo_fipe"]
    assert result.provider_cost == Decimal("0.10")
    assert problems("veicular", result.data) == []


def test_veicular_fipe_falls_back_and_failure_is_only_a_warning(sandbox):
    def only_vehicle(request):
        if request.input["query"] == "fipe":
            return PluginResult.error(Status.RETRYABLE, "timeout", "slow")
        return run_execute(sandbox, request)

    result = run("veicular", FakeFonteClient({"fonte-a": only_vehicle}), {"renavam": "01234567897"},
                 fontes=["fonte-a"])
    assert result.status is Status.OK and result.data["fipe"] is None
    assert result.errors[0].code == "fipe_unavailable"
    assert problems("veicular", result.data) == []


def test_veicular_not_found(sandbox):
    result = run("veicular", FakeFonteClient({"fonte-a": sandbox}), {"plate": "ABC1D99"}, fontes=["fonte-a"])
    assert result.status is Status.NOT_FOUND and result.billable and [s.query for s in result.sources] == ["veiculo"]


# -- credito -------------------------------------------------------------------------------------


def test_credito_report_with_internal_score(sandbox):
    result = run("credito", FakeFonteClient({"fonte-a": sandbox}), {"document": CPF}, fontes=["fonte-a"])
    assert result.status in (Status.OK, Status.NOT_FOUND)
    assert [s.query for s in result.sources] == ["protestos", "cheques", "pgfn"]
    assert result.data["score"]["fonte"] == "interno"
    assert problems("credito", result.data) == []


def test_credito_nada_consta_is_a_billable_not_found_with_the_report(sandbox):
    result = run("credito", FakeFonteClient({"fonte-a": sandbox}), {"document": "12345699906"}, fontes=["fonte-a"])
    assert result.status is Status.NOT_FOUND and result.billable is True
    assert result.provider_cost == Decimal("0.15")
    assert result.data["nada_consta"] is True and result.data["protestos"]["total"] == 0
    assert result.data["score"]["valor"] == 1000
    assert problems("credito", result.data) == []


def test_credito_score_from_a_configured_fonte(sandbox):
    client = FakeFonteClient({"fonte-a": sandbox, "fonte-sandbox": sandbox})
    result = run("credito", client, {"document": ALNUM}, fontes=["fonte-a"], config={"score_source": "fonte-sandbox"})
    assert result.sources[-1].plugin == "fonte-sandbox" and result.sources[-1].query == "score"
    assert result.data["score"]["fonte"] == "fonte-sandbox" and result.data["score"]["modelo"] == "sandbox-score-v1"
    assert problems("credito", result.data) == []


def test_credito_missing_score_is_a_warning(sandbox):
    client = FakeFonteClient({"fonte-a": sandbox})
    result = run("credito", client, {"document": CPF}, fontes=["fonte-a"], config={"score_source": "fonte-bureau"})
    assert result.data["score"] is None and result.errors[0].code == "score_unavailable"


def test_credito_incomplete_report_is_not_sold(sandbox):
    def no_pgfn(request):
        if request.input["query"] == "pgfn":
            return PluginResult.error(Status.RETRYABLE, "source_unavailable", "down")
        return run_execute(sandbox, request)

    result = run("credito", FakeFonteClient({"fonte-a": no_pgfn}), {"document": CPF}, fontes=["fonte-a"])
    assert result.status is Status.RETRYABLE and result.data is None
    assert result.billable is True  # protestos and cheques were paid for: CORE decides what to charge


def test_internal_score_rule():
    credito = load_plugin_module("consulta", "credito", "credito")
    empty = credito.block("protestos", None), credito.block("cheques", None), credito.block("pgfn", None)
    assert credito.internal_score(*empty)["valor"] == 1000
    score = credito.internal_score({"total": 4}, {"total": 1}, {"total": 1, "valor_total": 50000.0})
    assert score["valor"] == 1000 - 450 - 100 - 150 - 50 and score["faixa"] == "baixo"


# -- real fonte plugins (recorded HTTP) behind the fake client ---------------------------------------------


def recorded(plugin_cls, routes):
    """A fonte plugin whose HTTP goes to recorded fixtures keyed by URL path suffix."""

    def handler(request):
        for suffix, (provider, name, status) in routes.items():
            if request.url.path.endswith(suffix):
                return httpx.Response(status, json=fixture(provider, name))
        return httpx.Response(404, json={"message": "not recorded"})

    return plugin_cls(transport=httpx.MockTransport(handler))


def test_cadastral_cnpj_brasilapi_down_then_infosimples():
    brasil = load_plugin_module("fonte", "brasilapi", "brasilapi").BrasilApiFonte
    info = load_plugin_module("fonte", "infosimples", "infosimples").InfosimplesFonte
    client = FakeFonteClient({
        "fonte-brasilapi": recorded(brasil, {CNPJ: ("brasilapi", "error_500", 503)}),
        "fonte-infosimples": recorded(info, {"receita-federal/cnpj": ("infosimples", "receita-federal-cnpj_200", 200)}),
    })
    result = run("cadastral", client, {"document": CNPJ},
                 fontes=["fonte-brasilapi", {"id": "fonte-infosimples", "config": {"token": "tok-12345678"}}])
    assert result.status is Status.OK
    assert [(s.plugin, s.status) for s in result.sources] == [("fonte-brasilapi", Status.RETRYABLE),
                                                              ("fonte-infosimples", Status.OK)]
    assert result.sources[1].meta["service"] == "receita-federal/cnpj" and result.provider_cost == Decimal("0.2")
    assert result.data["nome"] == "LUME ENGENHARIA E SERVICOS SOCIEDADE SIMPLES LIMITADA"
    assert len(result.data["pessoa_juridica"]["cnaes_secundarios"]) == 4
    assert problems("cadastral", result.data) == []


@pytest.mark.parametrize("name, document", [("cnpj_200", CNPJ), ("cnpj_alfanumerico_200", "00000000E08G12")])
def test_cadastral_from_brasilapi_matches_the_schema(name, document):
    brasil = load_plugin_module("fonte", "brasilapi", "brasilapi").BrasilApiFonte
    client = FakeFonteClient({"fonte-brasilapi": recorded(brasil, {document: ("brasilapi", name, 200)})})
    result = run("cadastral", client, {"document": document}, fontes=["fonte-brasilapi"])
    assert result.status is Status.OK and not result.billable
    assert problems("cadastral", result.data) == []


def test_infosimples_cpf_matches_the_schema():
    info = load_plugin_module("fonte", "infosimples", "infosimples").InfosimplesFonte
    fonte = recorded(info, {"receita-federal/cpf": ("infosimples", "receita-federal-cpf_200", 200)})
    cadastral = run("cadastral", FakeFonteClient({"fonte-infosimples": fonte}),
                    {"document": CPF, "birthdate": "1990-01-31"},
                    fontes=[{"id": "fonte-infosimples", "config": {"token": "tok-12345678"}}])
    assert cadastral.status is Status.OK and problems("cadastral", cadastral.data) == []
    assert cadastral.data["situacao_cadastral"] == "ATIVA"


def test_credito_against_the_pgfn_devedores_example_reports_its_debts_and_total():
    """Issue 11: PGFN is the debtor list (receita-federal/pgfn/devedores), not the CND certificate; the
    crédito report shows the debts and their total, and the CENPROT-SP cartórios keyed by UF."""
    info = load_plugin_module("fonte", "infosimples", "infosimples").InfosimplesFonte
    fonte = recorded(info, {
        "cenprot-sp/protestos": ("infosimples", "cenprot-sp-protestos_200", 200),
        "bcb/cheques-sem-fundo": ("infosimples", "code_612", 200),  # nada consta
        "receita-federal/pgfn/devedores": ("infosimples", "receita-federal-pgfn-devedores_200", 200),
    })
    config = {"token": "tok-12345678", "services": {"protestos": "cenprot-sp/protestos"}}
    credito = run("credito", FakeFonteClient({"fonte-infosimples": fonte}), {"document": CNPJ},
                  fontes=[{"id": "fonte-infosimples", "config": config}])
    assert credito.status is Status.OK and problems("credito", credito.data) == []
    assert credito.data["dividas_pgfn"] == {"total": 1, "valor_total": 29544029.81, "inscricoes": [
        {"numero": "111111111111", "natureza": "FGTS", "situacao": None, "valor": 16745.1}]}
    assert credito.data["protestos"]["total"] == 1 and credito.data["protestos"]["registros"][0]["uf"] == "SP"
    assert credito.data["cheques_sem_fundo"] == {"total": 0, "registros": []}
    assert credito.data["nada_consta"] is False
    assert credito.data["score"]["valor"] == 1000 - 150 - (150 + 100)
    assert credito.billable and credito.provider_cost == Decimal("0.64")


def test_credito_never_reads_a_cnd_certificate_as_no_debts():
    """The CND answer (tipo/debitos_pgfn) has no debt list: configured as the pgfn service, it is a
    non-billable error, not an empty PGFN block."""
    info = load_plugin_module("fonte", "infosimples", "infosimples").InfosimplesFonte
    cnd = fixture("infosimples", "receita-federal-cpf_200")
    cnd["data"] = [{"tipo": "Positiva", "debitos_pgfn": True, "debitos_rfb": False}]

    def handler(request):
        if request.url.path.endswith("/receita-federal/pgfn"):
            return httpx.Response(200, json=cnd)
        if request.url.path.endswith("/cenprot-sp/protestos"):
            return httpx.Response(200, json=fixture("infosimples", "cenprot-sp-protestos_200"))
        return httpx.Response(200, json=fixture("infosimples", "code_612"))

    fonte = info(transport=httpx.MockTransport(handler))
    config = {"token": "tok-12345678",
              "services": {"protestos": "cenprot-sp/protestos", "pgfn": "receita-federal/pgfn"}}
    credito = run("credito", FakeFonteClient({"fonte-infosimples": fonte}), {"document": CNPJ},
                  fontes=[{"id": "fonte-infosimples", "config": config}])
    assert credito.status is Status.FAILED and credito.data is None
    assert credito.sources[-1].query == "pgfn" and credito.sources[-1].error.code == "unrecognised_response"
    assert credito.sources[-1].billable is False
