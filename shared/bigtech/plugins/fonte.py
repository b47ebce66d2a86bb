"""``FontePlugin``: base of the data-source plugins (``fonte-*``).

A fonte answers *queries*, each a small, source-independent request/answer pair, so a consulta can ask
the same query of any fonte and fall back between them. The query travels in the ``input``::

    {"query": "cpf", "cpf": "12345678909", "birthdate": "1990-01-31"}
    {"query": "cnpj", "cnpj": "12ABC34501DE35"}
    {"query": "cep", "cep": "01310200"}
    {"query": "veiculo", "placa": "ABC1D23", "renavam": "..."}      # placa and/or renavam
    {"query": "fipe", "codigo_fipe": "001004-9", "ano_modelo": 2015}
    {"query": "protestos" | "cheques" | "pgfn" | "score", "cpf": ...}  # or "cnpj": ...

and the answer's ``data`` has the query's shape (``docs/plugins.md`` lists them). A fonte that does
not answer a query says ``failed``/``unsupported_query`` (never billable), which consultas skip.
Parameters are validated here (check digits included) **before** any paid call: a bad one is a
non-billable ``input_error``/``invalid_params``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import httpx

from .. import documents
from ..outbound import OutboundRefused, guarded_client
from .base import Plugin
from .contract import PluginContext, PluginResult, Status
from .fallback import UNSUPPORTED

QUERIES = ("cpf", "cnpj", "cep", "veiculo", "fipe", "protestos", "cheques", "pgfn", "score")
DOCUMENT_QUERIES = ("protestos", "cheques", "pgfn", "score")


class InvalidQuery(ValueError):
    pass


@dataclass(frozen=True)
class FonteQuery:
    """A parsed, validated query. ``repr`` is masked (documents never reach logs)."""

    name: str
    cpf: str | None = None
    cnpj: str | None = None
    cep: str | None = None
    placa: str | None = None
    renavam: str | None = None
    codigo_fipe: str | None = None
    ano_modelo: int | None = None
    birthdate: str | None = None

    @property
    def document(self) -> tuple[Literal["cpf", "cnpj"], str] | None:
        if self.cpf:
            return "cpf", self.cpf
        if self.cnpj:
            return "cnpj", self.cnpj
        return None

    def __repr__(self) -> str:
        shown = {"name": self.name}
        for kind in ("cpf", "cnpj", "cep", "placa", "renavam"):
            value = getattr(self, kind)
            if value:
                shown[kind] = documents.mask(kind, value)
        return f"FonteQuery({shown})"

    __str__ = __repr__


def _checked(kind: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidQuery(f"{kind} must be a string")
    try:
        return documents.validate(kind, value)  # type: ignore[arg-type]
    except documents.InvalidDocument as error:
        raise InvalidQuery(f"{kind}: {error.reason}") from None


def parse_query(data: dict[str, Any]) -> FonteQuery:
    """Validate a query ``input``; ``InvalidQuery`` with a value-free message otherwise."""
    name = data.get("query")
    if name not in QUERIES:
        raise InvalidQuery("unknown query")
    values: dict[str, Any] = {"name": name}
    if name == "cpf" or (name in DOCUMENT_QUERIES and data.get("cpf")):
        values["cpf"] = _checked("cpf", data.get("cpf"))
        if data.get("birthdate"):
            values["birthdate"] = str(data["birthdate"])
    elif name == "cnpj" or (name in DOCUMENT_QUERIES and data.get("cnpj")):
        values["cnpj"] = _checked("cnpj", data.get("cnpj"))
    elif name in DOCUMENT_QUERIES:
        raise InvalidQuery("cpf or cnpj required")
    elif name == "cep":
        values["cep"] = _checked("cep", data.get("cep"))
    elif name == "veiculo":
        if not data.get("placa") and not data.get("renavam"):
            raise InvalidQuery("placa or renavam required")
        if data.get("placa"):
            values["placa"] = _checked("placa", data["placa"])
        if data.get("renavam"):
            values["renavam"] = _checked("renavam", data["renavam"])
    elif name == "fipe":
        code = data.get("codigo_fipe")
        if not isinstance(code, str) or len(code) != 8 or not (code[:6].isdigit() and code[6] == "-"
                                                                and code[7].isdigit()):
            raise InvalidQuery("codigo_fipe must look like 001004-9")
        values["codigo_fipe"] = code
        if data.get("ano_modelo") is not None:
            try:
                values["ano_modelo"] = int(data["ano_modelo"])
            except (TypeError, ValueError):
                raise InvalidQuery("ano_modelo must be a year") from None
    return FonteQuery(**values)


class FontePlugin(Plugin):
    """Subclasses implement ``answer(query, ctx)`` for the queries their manifest lists.

    HTTP fontes fetch through ``http_client``: every request is checked by the outbound guard (the
    manifest's ``outbound_hosts``, public addresses only, no redirects); a refusal raises
    ``OutboundRefused``, which ``refused`` turns into a non-billable ``failed``/``outbound_refused``.
    """

    transport: httpx.BaseTransport | None = None  # tests inject httpx.MockTransport; None = the network

    def http_client(self, timeout: float | httpx.Timeout) -> httpx.Client:
        return guarded_client(self.manifest.outbound_policy(), timeout=timeout, transport=self.transport)

    @staticmethod
    def refused(error: OutboundRefused) -> PluginResult:
        """Fail closed: nothing was sent, nothing is billed, the next fonte may be tried."""
        return PluginResult.error(Status.FAILED, "outbound_refused", f"The fonte URL was refused: {error.message}",
                                  detail={"reason": error.reason})

    def execute(self, ctx: PluginContext) -> PluginResult:
        name = ctx.input.get("query")
        if name not in self.manifest.queries:
            return PluginResult.error(Status.FAILED, UNSUPPORTED, f"{self.id} does not answer '{name}'.")
        try:
            query = parse_query(ctx.input)
        except InvalidQuery as error:
            return PluginResult.error(Status.INPUT_ERROR, "invalid_params", str(error))
        return self.answer(query, ctx)

    def answer(self, query: FonteQuery, ctx: PluginContext) -> PluginResult:
        raise NotImplementedError


__all__ = ["DOCUMENT_QUERIES", "QUERIES", "FontePlugin", "FonteQuery", "InvalidQuery", "parse_query"]
