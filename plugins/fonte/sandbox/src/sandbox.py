"""The sandbox fonte: answers every fonte query with data derived from a hash of the input.

Determinism matters more than realism: tests and demos must get the same answer for the same input,
on every machine, forever. Outcomes other than ``ok`` are chosen by **magic suffixes**: the
characters right before the check digits, so the documents stay valid and pass CORE's validation:

============================ ===================== ================================================
CPF/CNPJ/RENAVAM/CEP/FIPE     plate (last 2 digits)  answer
============================ ===================== ================================================
``...999`` + DV               ``..99``               ``not_found`` (billable: "nada consta")
``...998`` + DV               ``..98``               ``input_error`` (billable, like Infosimples 608)
``...997`` + DV               ``..97``               ``retryable``/``timeout`` (after ``timeout_sleep_seconds``)
``...996`` + DV               ``..96``               ``retryable``/``source_unavailable`` (not billable)
``...995`` + DV               ``..95``               ``failed``/``source_error`` (billable, like 620)
============================ ===================== ================================================

(CEP has no check digit: its last three digits are the suffix. FIPE: the three digits before ``-``.)
``config.force_status`` overrides the outcome of every query.
"""

from __future__ import annotations

import hashlib
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bigtech.plugins import FontePlugin, FonteQuery, PluginContext, PluginResult, SourceAttempt, Status
from bigtech.plugins.contract import to_cents

MAGIC = {
    "999": "not_found",
    "998": "input_error",
    "997": "timeout",
    "996": "unavailable",
    "995": "source_error",
}

FIRST_NAMES = ("Ana", "Bruno", "Carla", "Diego", "Eduarda", "Felipe", "Gabriela", "Henrique", "Isabela", "João")
LAST_NAMES = ("Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida", "Lima", "Gomes")
COMPANY_WORDS = ("Alfa", "Horizonte", "Paulista", "Atlântico", "Cerrado", "Pampa", "Serra", "Litoral", "Aurora")
COMPANY_KINDS = ("Comércio", "Serviços", "Tecnologia", "Transportes", "Alimentos", "Construções")
CITIES = (("São Paulo", "SP", "01310"), ("Rio de Janeiro", "RJ", "20040"), ("Belo Horizonte", "MG", "30130"),
          ("Curitiba", "PR", "80010"), ("Porto Alegre", "RS", "90010"), ("Recife", "PE", "50030"),
          ("Salvador", "BA", "40020"), ("Goiânia", "GO", "74003"))
STREETS = ("Avenida Paulista", "Rua das Flores", "Rua XV de Novembro", "Avenida Brasil", "Rua da Aurora")
# (marca, modelo, codigo_fipe, combustivel): real-looking FIPE codes so the FIPE query can follow.
VEHICLES = (
    ("Fiat", "Palio EX 1.0 mpi 2p", "001004-9", "Gasolina"),
    ("Volkswagen", "Gol 1.0 Flex 12V 5p", "005340-6", "Flex"),
    ("Chevrolet", "Onix 1.0 Flex 5p", "004412-1", "Flex"),
    ("Toyota", "Corolla XEi 2.0 Flex 16V Aut.", "002118-0", "Flex"),
    ("Honda", "CG 160 Fan Flex", "811145-4", "Flex"),
    ("Hyundai", "HB20 1.0 Comfort Flex 12V", "015088-6", "Flex"),
)
COLOURS = ("Branca", "Preta", "Prata", "Vermelha", "Cinza", "Azul")
BANKS = (("001", "Banco do Brasil"), ("104", "Caixa Econômica Federal"), ("237", "Bradesco"), ("341", "Itaú"))
PGFN_KINDS = ("Previdenciária", "Não previdenciária", "FGTS")


class Seed:
    """A stream of deterministic numbers from one input."""

    def __init__(self, *parts: str) -> None:
        self.digest = hashlib.sha256("|".join(parts).encode()).digest()

    def num(self, index: int, modulo: int) -> int:
        return int.from_bytes(self.digest[index * 2 % 32: index * 2 % 32 + 2], "big") % modulo

    def pick(self, index: int, options: tuple[Any, ...]) -> Any:
        return options[self.num(index, len(options))]

    def date(self, index: int, start_year: int, span_days: int) -> str:
        return (date(start_year, 1, 1) + timedelta(days=self.num(index, span_days))).isoformat()


def magic_outcome(query: FonteQuery) -> str | None:
    """The magic outcome encoded in the query's key, if any (see the table above)."""
    if query.placa:
        suffix = "9" + query.placa[-2:]
    elif query.renavam:
        suffix = query.renavam[7:10]
    elif query.cpf:
        suffix = query.cpf[6:9]
    elif query.cnpj:
        suffix = query.cnpj[9:12]
    elif query.cep:
        suffix = query.cep[5:8]
    elif query.codigo_fipe:
        suffix = query.codigo_fipe[3:6]
    else:
        return None
    return MAGIC.get(suffix)


class SandboxFonte(FontePlugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def answer(self, query: FonteQuery, ctx: PluginContext) -> PluginResult:
        price = Decimal(str(ctx.config.get("price", "0.05")))
        forced = ctx.config.get("force_status")
        outcome = forced or magic_outcome(query) or "ok"
        meta = SourceAttempt(plugin=self.id, status=Status.OK, meta={"service": f"sandbox/{query.name}"})
        if ctx.config.get("site_receipt_url"):  # as Infosimples does: the proof of what the source showed
            meta.meta["site_receipts"] = [str(ctx.config["site_receipt_url"])]

        def billed(status: Status, data: dict[str, Any] | None = None, code: str | None = None,
                   message: str = "") -> PluginResult:
            cents = to_cents(price)
            result = PluginResult.error(status, code, message, billable=True, provider_cost=price) if code else \
                PluginResult(status=status, data=data, billable=True, provider_cost_cents=cents)
            meta.status = status
            result.sources = [meta]
            return result

        if outcome == "not_found":
            return billed(Status.NOT_FOUND)
        if outcome == "input_error":
            return billed(Status.INPUT_ERROR, code="refused_by_source",
                          message="The (simulated) source refused the input.")
        if outcome == "timeout":
            time.sleep(float(ctx.config.get("timeout_sleep_seconds") or 0))
            return PluginResult.error(Status.RETRYABLE, "timeout", "The (simulated) source timed out.")
        if outcome in ("unavailable", "retryable"):
            return PluginResult.error(Status.RETRYABLE, "source_unavailable", "The (simulated) source is down.")
        if outcome in ("source_error", "failed"):
            return billed(Status.FAILED, code="source_error",
                          message="The (simulated) source answered with a permanent error.")
        return billed(Status.OK, data=getattr(self, f"_{query.name}")(query))

    # -- one generator per query (shapes: docs/plugins.md) -----------------------------------------

    def _cpf(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("cpf", query.cpf or "")
        situacao = "REGULAR" if seed.num(0, 10) < 8 else seed.pick(1, ("SUSPENSA", "PENDENTE DE REGULARIZAÇÃO"))
        return {
            "cpf": query.cpf,
            "nome": f"{seed.pick(2, FIRST_NAMES)} {seed.pick(3, LAST_NAMES)} {seed.pick(4, LAST_NAMES)}",
            "situacao_cadastral": situacao,
            "data_situacao": seed.date(5, 2015, 3000),
            "data_inscricao": seed.date(6, 1985, 9000),
            "data_nascimento": query.birthdate or seed.date(7, 1950, 18000),
            "ano_obito": None,
        }

    def _cnpj(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("cnpj", query.cnpj or "")
        city, uf, cep5 = seed.pick(0, CITIES)
        name = f"{seed.pick(1, COMPANY_WORDS)} {seed.pick(2, COMPANY_KINDS)} Ltda"
        return {
            "cnpj": query.cnpj,
            "razao_social": name.upper(),
            "nome_fantasia": name.rsplit(" ", 1)[0],
            "situacao_cadastral": "ATIVA" if seed.num(3, 10) < 8 else seed.pick(4, ("BAIXADA", "INAPTA", "SUSPENSA")),
            "data_situacao": seed.date(5, 2005, 6000),
            "data_abertura": seed.date(6, 1990, 12000),
            "natureza_juridica": "206-2 - Sociedade Empresária Limitada",
            "porte": seed.pick(7, ("MICRO EMPRESA", "EMPRESA DE PEQUENO PORTE", "DEMAIS")),
            "capital_social": float(seed.num(8, 5000) * 1000),
            "cnae_principal": {"codigo": "4751201", "descricao": "Comércio varejista especializado de equipamentos"},
            "cnaes_secundarios": [{"codigo": "9511800", "descricao": "Reparação e manutenção de computadores"}],
            "endereco": {
                "logradouro": seed.pick(9, STREETS), "numero": str(seed.num(10, 2000) + 1), "complemento": None,
                "bairro": "Centro", "municipio": city, "uf": uf, "cep": f"{cep5}{seed.num(11, 900) + 100:03d}",
            },
            "socios": [
                {"nome": f"{seed.pick(12, FIRST_NAMES)} {seed.pick(13, LAST_NAMES)}".upper(),
                 "qualificacao": "Sócio-Administrador"},
            ],
            "simples": seed.num(14, 2) == 0,
            "mei": False,
        }

    def _cep(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("cep", query.cep or "")
        city, uf, _ = seed.pick(0, CITIES)
        return {"cep": query.cep, "uf": uf, "municipio": city, "bairro": "Centro", "logradouro": seed.pick(1, STREETS)}

    def _veiculo(self, query: FonteQuery) -> dict[str, Any]:
        key = query.placa or query.renavam or ""
        seed = Seed("veiculo", key)
        marca, modelo, codigo_fipe, combustivel = seed.pick(0, VEHICLES)
        city, uf, _ = seed.pick(1, CITIES)
        year = 2008 + seed.num(2, 16)
        stolen = seed.num(3, 20) == 0
        restrictions = ["ROUBO/FURTO"] if stolen else (["ALIENAÇÃO FIDUCIÁRIA"] if seed.num(4, 4) == 0 else [])
        renavam = query.renavam or _renavam_from(seed)
        return {
            "placa": query.placa or _plate_from(seed), "renavam": renavam, "marca": marca, "modelo": modelo,
            "ano_fabricacao": year, "ano_modelo": year + seed.num(5, 2), "cor": seed.pick(6, COLOURS),
            "combustivel": combustivel, "municipio": city, "uf": uf,
            "situacao": "CIRCULAÇÃO", "codigo_fipe": codigo_fipe,
            "existe_restricao": bool(restrictions), "roubo_furto": stolen, "restricoes": restrictions,
        }

    def _fipe(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("fipe", query.codigo_fipe or "")
        known = {v[2]: v for v in VEHICLES}
        marca, modelo, _, combustivel = known.get(query.codigo_fipe or "", ("Genérica", "Modelo Sandbox", "", "Flex"))
        return {
            "codigo_fipe": query.codigo_fipe, "valor": float(15000 + seed.num(0, 120) * 1000),
            "marca": marca, "modelo": modelo, "ano_modelo": query.ano_modelo or 2018 + seed.num(1, 6),
            "combustivel": combustivel, "mes_referencia": "janeiro de 2026",
        }

    def _protestos(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("protestos", (query.document or ("", ""))[1])
        count = (0, 0, 1, 2)[seed.num(0, 4)]
        registros = []
        for i in range(count):
            city, uf, _ = seed.pick(1 + i, CITIES)
            registros.append({"cartorio": f"{i + 1}º Tabelião de Protesto de {city}", "cidade": city, "uf": uf,
                              "valor": float(100 + seed.num(3 + i, 9000)), "data": seed.date(5 + i, 2021, 1500)})
        return {"total": count, "valor_total": round(sum(r["valor"] for r in registros), 2), "registros": registros}

    def _cheques(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("cheques", (query.document or ("", ""))[1])
        count = (0, 0, 0, 1)[seed.num(0, 4)]
        registros = [{"banco": seed.pick(1, BANKS)[0], "agencia": f"{seed.num(2, 9000) + 1000}",
                      "quantidade": 1 + seed.num(3, 3), "data_ultimo": seed.date(4, 2022, 1000)} for _ in range(count)]
        return {"total": sum(r["quantidade"] for r in registros), "registros": registros}

    def _pgfn(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("pgfn", (query.document or ("", ""))[1])
        count = (0, 0, 0, 1)[seed.num(0, 4)]
        inscricoes = [{"numero": f"80 1 {seed.num(1, 90) + 10:02d} {seed.num(2, 900000) + 100000}-{seed.num(3, 90)}",
                       "natureza": seed.pick(4, PGFN_KINDS), "situacao": "ATIVA EM COBRANÇA",
                       "valor": float(1000 + seed.num(5, 50000))} for _ in range(count)]
        return {"total": count, "valor_total": round(sum(i["valor"] for i in inscricoes), 2), "inscricoes": inscricoes}

    def _score(self, query: FonteQuery) -> dict[str, Any]:
        seed = Seed("score", (query.document or ("", ""))[1])
        return {"valor": seed.num(0, 1001), "modelo": "sandbox-score-v1"}


def _plate_from(seed: Seed) -> str:
    letters = "".join(chr(ord("A") + seed.num(20 + i, 26)) for i in range(3))
    return f"{letters}{seed.num(23, 10)}{chr(ord('A') + seed.num(24, 10))}{seed.num(25, 90) + 10}"


def _renavam_from(seed: Seed) -> str:
    from bigtech.documents import renavam_check_digit

    base = f"{seed.num(26, 10 ** 4):04d}{seed.num(27, 10 ** 4):04d}{seed.num(28, 100):02d}"
    return base + renavam_check_digit(base)
