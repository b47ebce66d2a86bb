"""consulta-veicular: ``veiculo`` query, then ``fipe`` for its FIPE code; ``veicular.schema.json``.

The vehicle answer decides the consulta's status. The FIPE value is an extra: if no fonte answers it,
``fipe`` is ``null`` and a ``fipe_unavailable`` warning is listed in ``errors`` of an ``ok`` result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bigtech import documents
from bigtech.plugins import (
    ConsultaInput,
    ConsultaPlugin,
    FonteRun,
    PluginContext,
    PluginError,
    PluginResult,
    Status,
)


def vehicle_data(found: dict[str, Any], consulta_input: ConsultaInput) -> dict[str, Any]:
    plate = found.get("placa") or consulta_input.plate
    plate = documents.normalize_plate(plate) if plate else None
    if plate and not documents.is_valid_plate(plate):
        plate = consulta_input.plate
    renavam = found.get("renavam") or consulta_input.renavam
    return {
        "placa": plate,
        "placa_mercosul": documents.to_mercosul(plate) if plate else None,
        "renavam": renavam if renavam and documents.is_valid_renavam(renavam) else consulta_input.renavam,
        **{key: found.get(key) for key in ("marca", "modelo", "ano_fabricacao", "ano_modelo", "cor", "combustivel",
                                           "municipio", "uf", "situacao", "codigo_fipe")},
    }


def restrictions(found: dict[str, Any]) -> dict[str, Any]:
    return {
        "existe_restricao": found.get("existe_restricao"),
        "roubo_furto": found.get("roubo_furto"),
        "lista": [str(item) for item in found.get("restricoes") or []],
    }


def fipe_block(found: dict[str, Any]) -> dict[str, Any]:
    return {key: found.get(key) for key in
            ("codigo_fipe", "valor", "marca", "modelo", "ano_modelo", "combustivel", "mes_referencia")}


class VeicularConsulta(ConsultaPlugin):
    manifest_path = Path(__file__).resolve().parents[1] / "plugin.json"

    def consult(self, consulta_input: ConsultaInput, run: FonteRun, ctx: PluginContext) -> PluginResult:
        params = {k: v for k, v in (("placa", consulta_input.plate), ("renavam", consulta_input.renavam)) if v}
        outcome = run.ask("veiculo", params)
        if outcome.status is not Status.OK or outcome.data is None:
            return self.unanswered(run, outcome)
        vehicle = vehicle_data(outcome.data, consulta_input)
        fipe = None
        warnings: list[PluginError] = []
        if ctx.config.get("include_fipe", True) and vehicle.get("codigo_fipe"):
            fipe_params: dict[str, Any] = {"codigo_fipe": vehicle["codigo_fipe"]}
            if vehicle.get("ano_modelo"):
                fipe_params["ano_modelo"] = vehicle["ano_modelo"]
            fipe_outcome = run.ask("fipe", fipe_params)
            if fipe_outcome.status is Status.OK and fipe_outcome.data:
                fipe = fipe_block(fipe_outcome.data)
            elif fipe_outcome.status is not Status.NOT_FOUND:
                warnings.append(PluginError(code="fipe_unavailable", message="No fonte answered the FIPE value.",
                                            detail={"cause": fipe_outcome.error.code}))
        data = {"veiculo": vehicle, "restricoes": restrictions(outcome.data), "fipe": fipe}
        return run.result(Status.OK, data, warnings)
