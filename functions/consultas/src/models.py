"""Request bodies and queries of the consultas function (invalid → 422 with field errors)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from bigtech.pagination import ID_PATTERN, PageQuery
from bigtech.schema_constants import LEGAL_BASES

Category = Literal["credito", "cadastral", "veicular"]
PREFER_ASYNC = "respond-async"

# LGPD art. 7 by article number (what compliance teams write) → the stored name.
LEGAL_BASIS_ALIASES = {
    "art7_i": "consentimento", "consent": "consentimento", "art7_ii": "obrigacao_legal",
    "art7_iii": "politicas_publicas", "art7_iv": "pesquisa", "art7_v": "execucao_contrato",
    "art7_vi": "exercicio_direitos", "art7_vii": "protecao_vida", "art7_viii": "tutela_saude",
    "art7_ix": "interesse_legitimo", "art7_x": "protecao_credito",
}


class ConsultaBody(BaseModel):
    """``POST /``: what to look up, and why (LGPD: purpose and legal basis on every consulta)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)

    category: Category
    # a product of the category in the tenant's catalogue (mercado-varejo), priced as its price list shows
    product: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{0,47}$")
    document: str | None = Field(None, max_length=32)
    plate: str | None = Field(None, max_length=16)
    renavam: str | None = Field(None, max_length=16)
    birthdate: str | None = Field(None, max_length=16)
    purpose: str = Field(min_length=3, max_length=512)
    legal_basis: str
    # ``"async": true``: answer 202 with the pending consulta and run it in an async execution (``deferred``)
    run_async: bool = Field(False, alias="async", strict=True)

    @field_validator("legal_basis")
    @classmethod
    def _legal_basis(cls, value: str) -> str:
        name = value.strip().lower()
        name = LEGAL_BASIS_ALIASES.get(name, name)
        if name not in LEGAL_BASES:
            raise ValueError("must be one of " + ", ".join(LEGAL_BASES) + " (or art7_I … art7_X)")
        return name

    def lookup_input(self) -> dict[str, str]:
        return self.model_dump(include={"document", "plate", "renavam", "birthdate"}, exclude_none=True)


class HistoryQuery(PageQuery):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    category: Category | None = None
    status: Literal["pending", "succeeded", "not_found", "failed"] | None = None
    user_id: str | None = Field(None, pattern=ID_PATTERN)
    since: datetime | None = Field(None, alias="from")
    until: datetime | None = Field(None, alias="to")


def wants_async(body: ConsultaBody, prefer: str | None) -> bool:
    """``"async": true`` in the body, or ``prefer: respond-async`` (RFC 7240) among the preferences."""
    preferences = {part.split("=")[0].strip() for part in (prefer or "").lower().split(",")}
    return body.run_async or PREFER_ASYNC in preferences
