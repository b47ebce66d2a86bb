"""Infosimples ``data[0]`` → Bigtech fonte query shapes (docs/plugins.md).

Known fields (reference §1.5): ``receita-federal/cpf`` → ``normalizado_cpf``, ``situacao_cadastral``,
``ano_obito``; ``receita-federal/cnpj`` → ``razao_social``, ``nome_fantasia``, ``abertura_data``,
``situacao_cadastral``, ``natureza_juridica``, ``porte``, ``capital_social``, ``atividade_economica``,
``endereco_*``, ``qsa[]``, ``normalizado_*``. The other services' per-field names sit behind
Infosimples' logged-in docs: the readers below accept the likely variants and leave unknown fields
``None``. Check them against a real response before going live (tests/fixtures/infosimples).
"""

from __future__ import annotations

import re
from typing import Any

from bigtech.plugins import FonteQuery
from bigtech.plugins import normalize as n


def _first(item: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if item.get(key) not in (None, "", []):
            return item[key]
    return None


def _list(item: dict[str, Any], *keys: str) -> list[dict[str, Any]]:
    value = _first(item, *keys)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _cnae(value: Any) -> dict[str, Any] | None:
    """``"47.51-2-01 - Comércio varejista…"`` or ``{"codigo", "descricao"}`` → ``{codigo, descricao}``."""
    if isinstance(value, dict):
        code = n.digits(_first(value, "codigo", "code"))
        return {"codigo": code, "descricao": n.text(_first(value, "descricao", "text"))} if code else None
    raw = n.text(value)
    if not raw:
        return None
    match = re.match(r"^\s*([\d.\-/]+)\s*-\s*(.*)$", raw)
    if not match:
        return None
    return {"codigo": re.sub(r"\D", "", match.group(1)), "descricao": n.text(match.group(2))}


def cpf(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    return {
        "cpf": n.digits(_first(item, "normalizado_cpf", "cpf")) or query.cpf,
        "nome": n.text(_first(item, "nome", "nome_civil")),
        "situacao_cadastral": n.upper(item.get("situacao_cadastral")) or "DESCONHECIDA",
        "data_situacao": n.iso_date(_first(item, "normalizado_data_situacao", "data_situacao")),
        "data_inscricao": n.iso_date(_first(item, "normalizado_data_inscricao", "data_inscricao")),
        "data_nascimento": n.iso_date(_first(item, "normalizado_data_nascimento", "data_nascimento")),
        "ano_obito": n.integer(item.get("ano_obito")),
    }


def cnpj(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    secondary = item.get("atividade_economica_secundaria") or item.get("atividades_secundarias") or []
    if not isinstance(secondary, list):
        secondary = [secondary]
    return {
        "cnpj": n.upper(re.sub(r"[^0-9A-Za-z]", "", str(_first(item, "normalizado_cnpj", "cnpj") or ""))) or query.cnpj,
        "razao_social": n.text(item.get("razao_social")),
        "nome_fantasia": n.text(item.get("nome_fantasia")),
        "situacao_cadastral": n.upper(item.get("situacao_cadastral")) or "DESCONHECIDA",
        "data_situacao": n.iso_date(_first(item, "normalizado_situacao_cadastral_data", "situacao_cadastral_data")),
        "data_abertura": n.iso_date(_first(item, "normalizado_abertura_data", "abertura_data")),
        "natureza_juridica": n.text(item.get("natureza_juridica")),
        "porte": n.text(item.get("porte")),
        "capital_social": n.money(_first(item, "normalizado_capital_social", "capital_social")),
        "cnae_principal": _cnae(item.get("atividade_economica")),
        "cnaes_secundarios": [c for c in (_cnae(s) for s in secondary) if c],
        "endereco": {
            "logradouro": n.text(item.get("endereco_logradouro")),
            "numero": n.text(item.get("endereco_numero")),
            "complemento": n.text(item.get("endereco_complemento")),
            "bairro": n.text(item.get("endereco_bairro")),
            "municipio": n.text(item.get("endereco_municipio")),
            "uf": n.uf(item.get("endereco_uf")),
            "cep": n.cep(_first(item, "normalizado_endereco_cep", "endereco_cep")),
        },
        "socios": [
            {"nome": n.text(s.get("nome")) or "",
             "qualificacao": n.text(_first(s, "qualificacao", "qualificacao_socio"))}
            for s in _list(item, "qsa")
        ],
        "simples": n.boolean(_first(item, "simples_nacional", "opcao_simples")),
        "mei": n.boolean(_first(item, "mei", "opcao_mei")),
    }


def cep(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    return {
        "cep": n.cep(item.get("cep")) or query.cep,
        "uf": n.uf(item.get("uf")),
        "municipio": n.text(_first(item, "cidade", "municipio", "localidade")),
        "bairro": n.text(item.get("bairro")),
        "logradouro": n.text(_first(item, "logradouro", "endereco")),
    }


def veiculo(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    marca_modelo = n.text(_first(item, "marca_modelo", "marca"))
    marca, _, modelo = (marca_modelo or "").partition("/")
    restricoes = [n.text(r) for r in (item.get("restricoes") or []) if isinstance(r, str) and n.text(r)]
    for key in ("bloqueios_judiciais", "gravames"):
        if item.get(key) and isinstance(item[key], list):
            restricoes += [n.text(r.get("descricao") if isinstance(r, dict) else r) or key.upper() for r in item[key]]
    stolen = n.boolean(item.get("roubo_furto"))
    plate = re.sub(r"[^0-9A-Za-z]", "", str(item.get("placa") or "")).upper() or query.placa
    renavam = n.digits(item.get("renavam")) or query.renavam
    fipe = n.text(item.get("codigo_fipe"))
    return {
        "placa": plate,
        "renavam": renavam.zfill(11) if renavam and len(renavam) == 9 else renavam,
        "marca": n.text(marca) if modelo else marca_modelo,
        "modelo": n.text(modelo) or n.text(item.get("modelo")),
        "ano_fabricacao": n.integer(item.get("ano_fabricacao")),
        "ano_modelo": n.integer(item.get("ano_modelo")),
        "cor": n.text(item.get("cor")),
        "combustivel": n.text(item.get("combustivel")),
        "municipio": n.text(item.get("municipio")),
        "uf": n.uf(item.get("uf")),
        "situacao": n.text(item.get("situacao")),
        "codigo_fipe": fipe if fipe and re.fullmatch(r"\d{6}-\d", fipe) else None,
        "existe_restricao": n.boolean(item.get("existe_restricao")) if item.get("existe_restricao") is not None
        else (bool(restricoes) or bool(stolen)),
        "roubo_furto": stolen,
        "restricoes": [r for r in restricoes if r],
    }


def protestos(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    registros = []
    for cartorio in _list(item, "cartorios", "protestos"):
        titles = _list(cartorio, "titulos", "protestos") or [cartorio]
        for title in titles:
            registros.append({
                "cartorio": n.text(_first(cartorio, "nome", "cartorio")),
                "cidade": n.text(_first(cartorio, "cidade", "municipio")),
                "uf": n.uf(cartorio.get("uf")),
                "valor": n.money(_first(title, "valor", "valor_protestado")),
                "data": n.iso_date(_first(title, "data_protesto", "data")),
            })
    total = n.integer(_first(item, "quantidade_titulos", "total_protestos")) or len(registros)
    valor_total = n.money(_first(item, "valor_total", "normalizado_valor_total"))
    if valor_total is None:
        valor_total = round(sum(r["valor"] or 0 for r in registros), 2)
    return {"total": total, "valor_total": valor_total, "registros": registros}


def cheques(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    registros = [
        {
            "banco": n.text(_first(o, "banco", "codigo_banco")),
            "agencia": n.text(o.get("agencia")),
            "quantidade": n.integer(_first(o, "quantidade_ocorrencias", "quantidade")) or 1,
            "data_ultimo": n.iso_date(_first(o, "data_ultima_ocorrencia", "data_ultimo")),
        }
        for o in _list(item, "ocorrencias", "cheques")
    ]
    total = n.integer(_first(item, "total_ocorrencias", "quantidade")) or sum(r["quantidade"] for r in registros)
    return {"total": total, "registros": registros}


def pgfn(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    inscricoes = [
        {
            "numero": n.text(_first(i, "numero_inscricao", "numero")),
            "natureza": n.text(_first(i, "natureza", "receita_principal", "tipo")),
            "situacao": n.text(_first(i, "situacao", "situacao_inscricao")),
            "valor": n.money(_first(i, "normalizado_valor_consolidado", "valor_consolidado", "valor")),
        }
        for i in _list(item, "inscricoes", "debitos")
    ]
    valor_total = n.money(_first(item, "normalizado_valor_total", "valor_total"))
    if valor_total is None:
        valor_total = round(sum(i["valor"] or 0 for i in inscricoes), 2)
    return {"total": len(inscricoes), "valor_total": valor_total, "inscricoes": inscricoes}


NORMALIZERS = {
    "cpf": cpf,
    "cnpj": cnpj,
    "cep": cep,
    "veiculo": veiculo,
    "protestos": protestos,
    "cheques": cheques,
    "pgfn": pgfn,
}
