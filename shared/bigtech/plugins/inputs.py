"""Validate a consulta's input for its category: CPF/CNPJ (numeric and alphanumeric), plate, RENAVAM.

Used by CORE's ``consultas`` function **before** reserving credits or calling any plugin (Infosimples
charges for 606-608 input errors, so a bad check digit must never reach a paid source), and again by
each consulta plugin (defence in depth). Errors are ``Unprocessable`` with ``[{field, message}]``
details; messages never echo the value.

Request fields (as in ``POST /consultas``): ``document`` (CPF or CNPJ), ``plate``, ``renavam`` and,
for cadastral CPF look-ups at sources that need it, ``birthdate`` (``YYYY-MM-DD`` or ``DD/MM/YYYY``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from .. import documents
from ..errors import Unprocessable
from .manifest import Category, InputKind

DEFAULT_INPUTS: dict[str, tuple[InputKind, ...]] = {
    "cadastral": ("cpf", "cnpj"),
    "credito": ("cpf", "cnpj"),
    "veicular": ("placa", "renavam"),
}
_DMY = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


class ConsultaInput(BaseModel):
    """Normalised input. ``str()``/``repr()`` are masked, so it can be logged as is."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    document: str | None = None
    document_type: Literal["cpf", "cnpj"] | None = None
    plate: str | None = None
    renavam: str | None = None
    birthdate: str | None = None  # ISO YYYY-MM-DD

    def masked(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.document and self.document_type:
            out["document"] = documents.mask(self.document_type, self.document)
        if self.plate:
            out["plate"] = documents.mask("placa", self.plate)
        if self.renavam:
            out["renavam"] = documents.mask("renavam", self.renavam)
        if self.birthdate:
            out["birthdate"] = "****-**-**"
        return out

    def __repr__(self) -> str:
        return f"ConsultaInput({self.masked()})"

    __str__ = __repr__

    def to_json(self) -> dict[str, Any]:
        """The plugin ``input`` CORE sends (normalised, unmasked: only over the execution channel)."""
        return self.model_dump(exclude_none=True)


def _birthdate(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected YYYY-MM-DD or DD/MM/YYYY")
    text = value.strip()
    match = _DMY.match(text)
    if match:
        text = f"{match.group(3)}-{match.group(2)}-{match.group(1)}"
    try:
        parsed = date.fromisoformat(text)
    except ValueError:
        raise ValueError("expected YYYY-MM-DD or DD/MM/YYYY") from None
    if parsed > date.today() or parsed.year < 1900:
        raise ValueError("out of range")
    return parsed.isoformat()


def validate_input(
    category: Category | str,
    raw: dict[str, Any],
    accepted: tuple[InputKind, ...] | list[InputKind] | None = None,
) -> ConsultaInput:
    """The normalised ``ConsultaInput`` for ``category``, or ``Unprocessable`` listing every problem.

    ``accepted`` narrows the input kinds (a consulta plugin's manifest ``inputs``); by default the
    category's: cadastral/credito take a CPF or CNPJ, veicular a plate and/or a RENAVAM.
    """
    if category not in DEFAULT_INPUTS:
        raise Unprocessable.field("category", "unknown category", code="unknown_category")
    kinds = tuple(accepted or DEFAULT_INPUTS[category])
    raw = raw or {}
    details: list[dict[str, str]] = []
    values: dict[str, Any] = {}

    document = raw.get("document")
    if document not in (None, ""):
        if "cpf" not in kinds and "cnpj" not in kinds:
            details.append({"field": "document", "message": f"not accepted for {category}"})
        elif not isinstance(document, str):
            details.append({"field": "document", "message": "must be a string"})
        else:
            try:
                parsed = documents.Document.parse(document)
            except documents.InvalidDocument as error:
                details.append({"field": "document", "message": f"invalid {error.kind}: {error.reason}"})
            else:
                if parsed.kind not in kinds:
                    details.append({"field": "document", "message": f"a {parsed.kind.upper()} is not accepted"})
                else:
                    values["document"], values["document_type"] = parsed.number, parsed.kind

    for field, kind in (("plate", "placa"), ("renavam", "renavam")):
        value = raw.get(field)
        if value in (None, ""):
            continue
        if kind not in kinds:
            details.append({"field": field, "message": f"not accepted for {category}"})
        elif not isinstance(value, str):
            details.append({"field": field, "message": "must be a string"})
        else:
            try:
                values[field] = documents.validate(kind, value)
            except documents.InvalidDocument as error:
                details.append({"field": field, "message": error.reason})

    birthdate = raw.get("birthdate")
    if birthdate not in (None, ""):
        try:
            values["birthdate"] = _birthdate(birthdate)
        except ValueError as error:
            details.append({"field": "birthdate", "message": str(error)})

    if not details and not any(k in values for k in ("document", "plate", "renavam")):
        fields = sorted({"document" if k in ("cpf", "cnpj") else "plate" if k == "placa" else k for k in kinds})
        wanted = " or ".join(fields)
        details.append({"field": fields[0], "message": f"required: give {wanted}"})
    if details:
        names = ", ".join(sorted({d["field"] for d in details}))
        raise Unprocessable(f"Invalid input: {names}.", code="invalid_input", details=details)
    return ConsultaInput(**values)


__all__ = ["DEFAULT_INPUTS", "ConsultaInput", "validate_input"]
