"""Infosimples ``data[0]`` → Bigtech fonte query shapes (docs/plugins.md).

Field names come from published examples (tests/fixtures/infosimples/README.md lists each source):
``receita-federal/cpf`` and ``cenprot-sp/protestos`` from Infosimples' own documentation examples,
``receita-federal/cnpj`` from a published real response (``atividade_economica_secundaria_lista`` is
the list; ``atividade_economica_secundaria`` is one ``"; "``-joined string), and
``receita-federal/pgfn/devedores`` (``total_divida``, ``naturezas_debitos[].debitos[]``) from public
integration tests. The other services (correios/cep, ieptb/protestos, bcb/cheques-sem-fundo,
senatran/veiculo) have no public example: their readers accept the likely names, and **an answer in
which none of the expected fields appears is refused** (``UnrecognisedShape`` → a non-billable
``failed``/``unrecognised_response``), never turned into an empty "nada consta".

Normalizers never invent a value: a field the provider did not return is ``None`` (not ``0``, not
``"DESCONHECIDA"``, not "no debts").
"""

from __future__ import annotations

import re
from typing import Any

from bigtech.plugins import FonteQuery
from bigtech.plugins import normalize as n


class UnrecognisedShape(ValueError):
    """``data[0]`` has none of the fields this service is known (or expected) to return."""


def _require(item: dict[str, Any], *keys: str) -> None:
    if not isinstance(item, dict) or not any(key in item for key in keys):
        raise UnrecognisedShape(", ".join(keys))


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
    # Receita marks some activities with a trailing "*": part of the label, not of the description.
    return {"codigo": re.sub(r"\D", "", match.group(1)), "descricao": n.text(match.group(2).rstrip(" *"))}


def cpf(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    _require(item, "normalizado_cpf", "cpf", "situacao_cadastral", "nome")
    return {
        "cpf": n.digits(_first(item, "normalizado_cpf", "cpf")) or query.cpf,
        "nome": n.text(_first(item, "nome", "nome_civil")),
        "situacao_cadastral": n.upper(item.get("situacao_cadastral")),
        "data_situacao": n.iso_date(_first(item, "normalizado_data_situacao", "data_situacao")),
        "data_inscricao": n.iso_date(_first(item, "normalizado_data_inscricao", "data_inscricao")),
        "data_nascimento": n.iso_date(_first(item, "normalizado_data_nascimento", "data_nascimento")),
        "ano_obito": n.integer(item.get("ano_obito")),
    }


def secondary_activities(item: dict[str, Any]) -> list[Any]:
    """``atividade_economica_secundaria_lista`` (the list); else the ``"; "``-joined string split."""
    listed = item.get("atividade_economica_secundaria_lista")
    if isinstance(listed, list):
        return listed
    joined = item.get("atividade_economica_secundaria")
    if isinstance(joined, str):
        return [part for part in joined.split("; ") if part.strip()]
    return []


def cnpj(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    _require(item, "razao_social", "normalizado_cnpj", "cnpj")
    secondary = secondary_activities(item)
    return {
        "cnpj": n.upper(re.sub(r"[^0-9A-Za-z]", "", str(_first(item, "normalizado_cnpj", "cnpj") or ""))) or query.cnpj,
        "razao_social": n.text(item.get("razao_social")),
        "nome_fantasia": n.text(item.get("nome_fantasia")),
        "situacao_cadastral": n.upper(item.get("situacao_cadastral")),
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
    _require(item, "cep", "logradouro", "endereco", "cidade", "municipio", "localidade")
    return {
        "cep": n.cep(item.get("cep")) or query.cep,
        "uf": n.uf(item.get("uf")),
        "municipio": n.text(_first(item, "cidade", "municipio", "localidade")),
        "bairro": n.text(item.get("bairro")),
        "logradouro": n.text(_first(item, "logradouro", "endereco")),
    }


def veiculo(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    _require(item, "placa", "renavam", "marca_modelo", "marca", "chassi")
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
        # Told, or evident from a listed restriction / theft; otherwise unknown (None), never "no".
        "existe_restricao": n.boolean(item.get("existe_restricao")) if item.get("existe_restricao") is not None
        else (True if restricoes or stolen else None),
        "roubo_furto": stolen,
        "restricoes": [r for r in restricoes if r],
    }


def _cartorio_groups(item: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """``cartorios`` keyed by UF (CENPROT-SP: ``{"SP": [...], "RJ": [...]}``) or a plain list."""
    value = item.get("cartorios")
    if isinstance(value, dict):
        return [(n.uf(uf), c) for uf, group in value.items() if isinstance(group, list)
                for c in group if isinstance(c, dict)]
    return [(n.uf(c.get("uf")), c) for c in _list(item, "cartorios", "protestos")]


def protestos(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    """One ``registro`` per protest; a cartório listed without detail (CENPROT-SP details only SP)
    becomes one ``registro`` carrying the cartório's own total. ``valor_total`` is the provider's
    (or the sum of the cartórios' totals when every one has it), else ``None``."""
    _require(item, "cartorios", "quantidade_titulos", "protestos")
    registros = []
    cartorio_totals: list[float | None] = []
    for uf_key, cartorio in _cartorio_groups(item):
        name = n.text(_first(cartorio, "nome", "cartorio"))
        city = n.text(_first(cartorio, "cidade", "municipio", "comarca"))
        uf = uf_key or n.uf(cartorio.get("uf"))
        cartorio_totals.append(n.money(_first(cartorio, "valor", "valor_string")))
        titles = _list(cartorio, "protestos", "titulos")
        for title in titles or [cartorio]:
            registros.append({
                "cartorio": name, "cidade": city, "uf": uf,
                "valor": n.money(_first(title, "valor", "valor_protestado", "valor_string")),
                "data": n.iso_date(_first(title, "data_protesto", "data")),
            })
    total = n.integer(_first(item, "quantidade_titulos", "total_protestos"))
    valor_total = n.money(_first(item, "valor_total", "normalizado_valor_total"))
    if valor_total is None and cartorio_totals and all(v is not None for v in cartorio_totals):
        valor_total = round(sum(v for v in cartorio_totals if v is not None), 2)
    return {"total": total if total is not None else len(registros), "valor_total": valor_total,
            "registros": registros}


def cheques(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    _require(item, "ocorrencias", "cheques", "total_ocorrencias", "quantidade")
    registros = [
        {
            "banco": n.text(_first(o, "banco", "codigo_banco")),
            "agencia": n.text(o.get("agencia")),
            "quantidade": n.integer(_first(o, "quantidade_ocorrencias", "quantidade")),
            "data_ultimo": n.iso_date(_first(o, "data_ultima_ocorrencia", "data_ultimo")),
        }
        for o in _list(item, "ocorrencias", "cheques")
    ]
    total = n.integer(_first(item, "total_ocorrencias", "quantidade"))
    counts = [r["quantidade"] for r in registros]
    if total is None and all(isinstance(count, int) for count in counts):
        total = sum(count for count in counts if isinstance(count, int))
    return {"total": total, "registros": registros}


def pgfn(item: dict[str, Any], query: FonteQuery) -> dict[str, Any]:
    """``receita-federal/pgfn/devedores``: ``total_divida`` and ``naturezas_debitos[].debitos[]``
    (``inscricao``, ``valor_divida``), one ``inscricao`` per debt with its nature's ``descricao``.
    Its answer has no per-debt situation: ``situacao`` is ``None``."""
    _require(item, "naturezas_debitos", "total_divida")
    inscricoes = []
    for natureza in _list(item, "naturezas_debitos"):
        for debito in _list(natureza, "debitos"):
            inscricoes.append({
                "numero": n.text(_first(debito, "inscricao", "numero_inscricao")),
                "natureza": n.text(natureza.get("descricao")),
                "situacao": n.text(debito.get("situacao")),
                "valor": n.money(_first(debito, "valor_divida", "valor")),
            })
    return {"total": len(inscricoes), "valor_total": n.money(item.get("total_divida")), "inscricoes": inscricoes}


NORMALIZERS = {
    "cpf": cpf,
    "cnpj": cnpj,
    "cep": cep,
    "veiculo": veiculo,
    "protestos": protestos,
    "cheques": cheques,
    "pgfn": pgfn,
}
