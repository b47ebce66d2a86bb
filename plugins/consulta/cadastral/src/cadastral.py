"""consulta-cadastral: one fonte query (``cpf`` or ``cnpj``), normalized to ``cadastral.schema.json``.

A CPF asks ``cpf`` (``birthdate`` passed along: Infosimples' receita-federal/cpf needs it); a CNPJ
(numeric or alphanumeric) asks ``cnpj``. Fontes that do not answer the query (BrasilAPI has no CPF
service) are skipped without being listed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bigtech.plugins import ConsultaInput, ConsultaPlugin, FonteRun, PluginContext, PluginResult, Status


def cpf_data(number: str, found: dict[str, Any]) -> dict[str, Any]:
    return {
        "documento": {"tipo": "cpf", "numero": number},
        "nome": found.get("nome"),
        "situacao_cadastral": found.get("situacao_cadastral"),  # None when the source did not say
        "data_situacao": found.get("data_situacao"),
        "pessoa_fisica": {
            "data_nascimento": found.get("data_nascimento"),
            "data_inscricao": found.get("data_inscricao"),
            "ano_obito": found.get("ano_obito"),
        },
        "pessoa_juridica": None,
    }


def cnpj_data(number: str, found: dict[str, Any]) -> dict[str, Any]:
    endereco = found.get("endereco")
    return {
        "documento": {"tipo": "cnpj", "numero": number},
        "nome": found.get("razao_social"),
        "situacao_cadastral": found.get("situacao_cadastral"),  # None when the source did not say
        "data_situacao": found.get("data_situacao"),
        "pessoa_fisica": None,
        "pessoa_juridica": {
            "nome_fantasia": found.get("nome_fantasia"),
            "data_abertura": found.get("data_abertura"),
            "natureza_juridica": found.get("natureza_juridica"),
            "porte": found.get("porte"),
            "capital_social": found.get("capital_social"),
            "cnae_principal": found.get("cnae_principal"),
            "cnaes_secundarios": list(found.get("cnaes_secundarios") or []),
            "endereco": {key: (endereco or {}).get(key) for key in
                         ("logradouro", "numero", "complemento", "bairro", "municipio", "uf", "cep")}
            if endereco else None,
            "socios": list(found.get("socios") or []),
            "simples": found.get("simples"),
            "mei": found.get("mei"),
        },
    }


class CadastralConsulta(ConsultaPlugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def consult(self, consulta_input: ConsultaInput, run: FonteRun, ctx: PluginContext) -> PluginResult:
        number = consulta_input.document or ""
        if consulta_input.document_type == "cpf":
            params = {"cpf": number}
            if consulta_input.birthdate:
                params["birthdate"] = consulta_input.birthdate
            outcome = run.ask("cpf", params)
            build = cpf_data
        else:
            outcome = run.ask("cnpj", {"cnpj": number})
            build = cnpj_data
        if outcome.status is not Status.OK or outcome.data is None:
            return self.unanswered(run, outcome)
        return run.result(Status.OK, build(number, outcome.data))
