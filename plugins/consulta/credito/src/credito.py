"""consulta-credito: ``protestos``, ``cheques`` and ``pgfn`` queries, then a score; ``credito.schema.json``.

Each of the three queries falls back through the fontes on its own. A fonte's ``not_found`` ("nada
consta") counts as an empty block; when all three are empty the consulta answers ``not_found`` **with**
the (empty) report and ``billable`` as the fontes reported it: a "nada consta" was paid for and is a
valid answer. A query no fonte could answer ends the consulta (``retryable``/``failed``): an incomplete
credit report is not sold. An ``input_error`` ends it too (the other sources would refuse as well).

The three queries are asked concurrently (``FonteRun.ask_all``: a small thread pool, the attempts kept
in query order), so the consulta takes as long as its slowest query instead of the sum. All three are
asked even when one then ends the consulta; answers the providers billed are reported ``billable``
as before, and CORE decides what to charge from that.

Score (``config.score_source``): ``interno`` (default) is a transparent heuristic over the three
blocks, not a bureau score (LGPD art. 20: a subject may ask which data fed it, so the rule is simple
and written below); a fonte id asks that fonte's ``score`` query; ``nenhum`` leaves it null. A score
that cannot be obtained is ``null`` with a ``score_unavailable`` warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bigtech.plugins import (
    ConsultaInput,
    ConsultaPlugin,
    FonteRef,
    FonteRun,
    PluginContext,
    PluginError,
    PluginResult,
    Status,
)

EMPTY = {
    "protestos": {"total": 0, "valor_total": 0.0, "registros": []},
    "cheques": {"total": 0, "registros": []},
    "pgfn": {"total": 0, "valor_total": 0.0, "inscricoes": []},
}
INTERNAL_MODEL = "bigtech-interno-v1"
QUERIES = ("protestos", "cheques", "pgfn")


def faixa(valor: int) -> str:
    if valor < 200:
        return "muito_baixo"
    if valor < 400:
        return "baixo"
    if valor < 600:
        return "medio"
    if valor < 800:
        return "alto"
    return "muito_alto"


def internal_score(protestos: dict[str, Any], cheques: dict[str, Any], pgfn: dict[str, Any]) -> dict[str, Any]:
    """1000 minus: 150 per protest (max 450), 100 per bad cheque (max 300), 150 for any PGFN debt plus
    1 point per R$ 1,000 owed (max 100). Higher is better. A count the source did not give counts as
    one occurrence when it listed records (the block is not empty); an unknown PGFN total adds nothing."""
    def count(block_: dict[str, Any], listed: str) -> int:
        total = block_.get("total")
        return int(total) if total is not None else (1 if block_.get(listed) else 0)

    valor = 1000
    valor -= min(150 * count(protestos, "registros"), 450)
    valor -= min(100 * count(cheques, "registros"), 300)
    if count(pgfn, "inscricoes") or pgfn.get("valor_total"):
        valor -= 150 + min(int(float(pgfn.get("valor_total") or 0) // 1000), 100)
    valor = max(0, min(1000, valor))
    return {"valor": valor, "faixa": faixa(valor), "fonte": "interno", "modelo": INTERNAL_MODEL}


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def block(name: str, found: dict[str, Any] | None) -> dict[str, Any]:
    """A fonte's query data reduced to the schema's fields (``None`` = nada consta → empty block, a real
    zero). Values the fonte did not give stay ``None``: never a made-up 0 or "no debts"."""
    if not found:
        return {key: (list(value) if isinstance(value, list) else value) for key, value in EMPTY[name].items()}
    if name == "protestos":
        registros = [{k: r.get(k) for k in ("cartorio", "cidade", "uf", "valor", "data")}
                     for r in found.get("registros") or []]
        return {"total": _count(found.get("total")), "valor_total": _number(found.get("valor_total")),
                "registros": registros}
    if name == "cheques":
        registros = [{"banco": r.get("banco"), "agencia": r.get("agencia"), "quantidade": _count(r.get("quantidade")),
                      "data_ultimo": r.get("data_ultimo")} for r in found.get("registros") or []]
        return {"total": _count(found.get("total")), "registros": registros}
    inscricoes = [{k: i.get(k) for k in ("numero", "natureza", "situacao", "valor")}
                  for i in found.get("inscricoes") or []]
    return {"total": _count(found.get("total")), "valor_total": _number(found.get("valor_total")),
            "inscricoes": inscricoes}


def empty(block_: dict[str, Any], listed: str) -> bool:
    """Nothing found: a zero (or unknown) count and no listed record."""
    return not block_.get("total") and not block_.get(listed)


class CreditoConsulta(ConsultaPlugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def consult(self, consulta_input: ConsultaInput, run: FonteRun, ctx: PluginContext) -> PluginResult:
        params: dict[str, Any] = {consulta_input.document_type or "cpf": consulta_input.document}
        blocks: dict[str, dict[str, Any]] = {}
        # The three queries are independent: asked at once (each falls back through the fontes on its own).
        for outcome in run.ask_all([(query, params) for query in QUERIES]):
            if outcome.status in (Status.OK, Status.NOT_FOUND):
                blocks[outcome.query] = block(outcome.query, outcome.data if outcome.status is Status.OK else None)
                continue
            return self.unanswered(run, outcome)

        warnings: list[PluginError] = []
        score = self._score(run, ctx, params, blocks, warnings)
        nada_consta = (empty(blocks["protestos"], "registros") and empty(blocks["cheques"], "registros")
                       and empty(blocks["pgfn"], "inscricoes") and not blocks["pgfn"].get("valor_total"))
        data = {
            "documento": {"tipo": consulta_input.document_type, "numero": consulta_input.document},
            "protestos": blocks["protestos"],
            "cheques_sem_fundo": blocks["cheques"],
            "dividas_pgfn": blocks["pgfn"],
            "score": score,
            "nada_consta": nada_consta,
        }
        return run.result(Status.NOT_FOUND if nada_consta else Status.OK, data, warnings)

    def _score(self, run: FonteRun, ctx: PluginContext, params: dict[str, Any], blocks: dict[str, dict[str, Any]],
               warnings: list[PluginError]) -> dict[str, Any] | None:
        source = str(ctx.config.get("score_source") or "interno")
        if source == "nenhum":
            return None
        if source == "interno":
            return internal_score(blocks["protestos"], blocks["cheques"], blocks["pgfn"])
        fonte = next((f for f in run.fontes if f.id == source), FonteRef(id=source))
        outcome = run.ask("score", params, fontes=[fonte])
        found = outcome.data or {}
        try:
            valor = max(0, min(1000, int(found["valor"])))
        except (KeyError, TypeError, ValueError):
            warnings.append(PluginError(code="score_unavailable", message=f"{source} did not give a score.",
                                        detail={"cause": outcome.error.code if outcome.status is not Status.OK
                                                else "invalid_score"}))
            return None
        return {"valor": valor, "faixa": faixa(valor), "fonte": source, "modelo": str(found.get("modelo") or source)}
