"""The BrasilAPI fonte: ``GET /cnpj/v1/{cnpj}``, ``/cep/v2/{cep}``, ``/fipe/preco/v1/{codigoFipe}``.

BrasilAPI is free, so nothing here is billable. Its errors are ``{"name", "message", "type"}`` (CEP adds
``errors[]``, one per upstream provider): CNPJ 404 → ``not_found``, 400 → ``input_error``, 429/5xx,
timeouts and connection errors → ``retryable``. **CEP v2 404 is not a "not found"**: BrasilAPI answers
404 when every upstream CEP service failed ("Todos os serviços de CEP retornaram erro."), outages
included, so it is ``retryable``/``unavailable_or_not_found`` (free; the next fonte is asked). The
CNPJ path already accepts the alphanumeric CNPJ (``^[0-9A-Z]{12}[0-9]{2}$``). A FIPE answer is a list
(one entry per model year): the entry for the requested ``ano_modelo`` (``not_found`` when that year
is not listed: another year's price would be an invented answer), else the first; an empty list is
``not_found``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bigtech import documents
from bigtech.plugins import FonteQuery, HttpFonte, PluginContext, PluginResult, Status
from bigtech.plugins import normalize as n

DEFAULT_BASE_URL = "https://brasilapi.com.br/api/"

SITUACOES = {1: "NULA", 2: "ATIVA", 3: "SUSPENSA", 4: "INAPTA", 8: "BAIXADA"}


def endpoint(query: FonteQuery) -> str:
    if query.name == "cnpj":
        return f"cnpj/v1/{query.cnpj}"
    if query.name == "cep":
        return f"cep/v2/{query.cep}"
    return f"fipe/preco/v1/{query.codigo_fipe}"


def cnpj_data(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    code = item.get("situacao_cadastral")
    situacao = n.upper(item.get("descricao_situacao_cadastral")) or (
        SITUACOES.get(code) if isinstance(code, int) else None)
    cnae = n.digits(item.get("cnae_fiscal"))
    street = " ".join(p for p in (n.text(item.get("descricao_tipo_de_logradouro")), n.text(item.get("logradouro")))
                      if p) or None
    return {
        "cnpj": documents.normalize_cnpj(str(item.get("cnpj") or "")) or query.cnpj,
        "razao_social": n.text(item.get("razao_social")),
        "nome_fantasia": n.text(item.get("nome_fantasia")),
        "situacao_cadastral": situacao,
        "data_situacao": n.iso_date(item.get("data_situacao_cadastral")),
        "data_abertura": n.iso_date(item.get("data_inicio_atividade")),
        "natureza_juridica": n.text(item.get("natureza_juridica")),
        "porte": n.text(item.get("porte")),
        "capital_social": n.money(item.get("capital_social")),
        "cnae_principal": {"codigo": cnae, "descricao": n.text(item.get("cnae_fiscal_descricao"))} if cnae else None,
        "cnaes_secundarios": [
            {"codigo": n.digits(c.get("codigo")), "descricao": n.text(c.get("descricao"))}
            for c in item.get("cnaes_secundarios") or []
            if isinstance(c, dict) and n.digits(c.get("codigo")) and n.digits(c.get("codigo")) != "0"
        ],
        "endereco": {
            "logradouro": street,
            "numero": n.text(item.get("numero")),
            "complemento": n.text(item.get("complemento")),
            "bairro": n.text(item.get("bairro")),
            "municipio": n.text(item.get("municipio")),
            "uf": n.uf(item.get("uf")),
            "cep": n.cep(item.get("cep")),
        },
        "socios": [
            {"nome": n.text(s.get("nome_socio")) or "", "qualificacao": n.text(s.get("qualificacao_socio"))}
            for s in item.get("qsa") or [] if isinstance(s, dict)
        ],
        "simples": item.get("opcao_pelo_simples") if isinstance(item.get("opcao_pelo_simples"), bool) else None,
        "mei": item.get("opcao_pelo_mei") if isinstance(item.get("opcao_pelo_mei"), bool) else None,
    }


def cep_data(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    return {
        "cep": n.cep(item.get("cep")) or query.cep,
        "uf": n.uf(item.get("state")),
        "municipio": n.text(item.get("city")),
        "bairro": n.text(item.get("neighborhood")),
        "logradouro": n.text(item.get("street")),
    }


def fipe_data(items: list[dict[str, Any]], query: FonteQuery) -> dict[str, Any] | None:
    entries = [i for i in items if isinstance(i, dict) and n.money(i.get("valor")) is not None]
    if query.ano_modelo is not None:
        entries = [i for i in entries if n.integer(i.get("anoModelo")) == query.ano_modelo]
    if not entries:
        return None
    item = entries[0]
    return {
        "codigo_fipe": n.text(item.get("codigoFipe")) or query.codigo_fipe,
        "valor": n.money(item.get("valor")),
        "marca": n.text(item.get("marca")),
        "modelo": n.text(item.get("modelo")),
        "ano_modelo": n.integer(item.get("anoModelo")),
        "combustivel": n.text(item.get("combustivel")),
        "mes_referencia": n.text(item.get("mesReferencia")),
    }


class BrasilApiFonte(HttpFonte):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"
    provider = "BrasilAPI"
    log_name = "brasilapi"

    def answer(self, query: FonteQuery, ctx: PluginContext) -> PluginResult:
        path = endpoint(query)
        url = str(ctx.config.get("base_url") or DEFAULT_BASE_URL).rstrip("/") + "/" + path
        attempt = self.attempt(ctx, query, path.rsplit("/", 1)[0])
        self.send(attempt, "GET", url, timeout=float(ctx.config.get("http_timeout") or 10),
                  headers={"accept": "application/json"})
        body, status = attempt.json(), attempt.http_status
        if status == 200 and body is not None:
            if query.name == "fipe":
                data = fipe_data(body if isinstance(body, list) else [], query)
                if data is None:
                    return self.result(attempt, Status.NOT_FOUND)
            elif isinstance(body, dict):
                data = cnpj_data(body, query) if query.name == "cnpj" else cep_data(body, query)
            else:
                data = None
            if data is not None:
                return self.result(attempt, Status.OK, data=data)
        error = body if isinstance(body, dict) else {}
        detail = {"http_status": status, "type": n.text(error.get("type")), "name": n.text(error.get("name"))}
        if status == 404 and query.name == "cep":
            return self.result(attempt, Status.RETRYABLE, code="unavailable_or_not_found",
                               message="BrasilAPI's CEP providers all failed: not found, or unavailable.",
                               detail=detail)
        if status == 404:
            return self.result(attempt, Status.NOT_FOUND)
        if status == 400:
            return self.result(attempt, Status.INPUT_ERROR, code="rejected_by_provider",
                               message="BrasilAPI rejected the input.", detail=detail)
        return self.result(attempt, Status.RETRYABLE, code="provider_unavailable",
                           message=f"BrasilAPI answered HTTP {status}.", detail=detail)
