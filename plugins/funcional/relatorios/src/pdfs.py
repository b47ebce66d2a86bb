"""PDF documents with fpdf2: a consulta receipt, an order receipt and a monthly statement.

The core fonts (Helvetica) carry Latin-1, which covers Portuguese; anything else is replaced. Every
receipt prints a verification hash: SHA-256 over the canonical JSON of the fields printed, so a copy
can be checked against the data (``GET /receipts/...`` renders the same hash again).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos


def _latin1(text: Any) -> str:
    return str("" if text is None else text).encode("latin-1", "replace").decode("latin-1")


def verification_hash(fields: list[tuple[str, Any]]) -> str:
    canonical = json.dumps([[k, str(v)] for k, v in fields], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def brl(cents: int) -> str:
    value = f"{Decimal(int(cents)) / 100:,.2f}"
    return "R$ " + value.replace(",", "_").replace(".", ",").replace("_", ".")


class Document:
    def __init__(self, title: str, issuer: str) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(_latin1(title))
        self.pdf.set_creator("Bigtech funcional-relatorios")
        self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", 15)
        self.pdf.cell(0, 10, _latin1(issuer or "Bigtech"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_font("Helvetica", "B", 12)
        self.pdf.cell(0, 8, _latin1(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_font("Helvetica", "", 8)
        issued = datetime.now(UTC).strftime("%d/%m/%Y %H:%M UTC")
        self.pdf.cell(0, 5, _latin1(f"Emitido em {issued}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(3)

    def fields(self, rows: Iterable[tuple[str, Any]]) -> None:
        for label, value in rows:
            self.pdf.set_font("Helvetica", "B", 10)
            self.pdf.cell(55, 6, _latin1(label))
            self.pdf.set_font("Helvetica", "", 10)
            self.pdf.multi_cell(0, 6, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(self, header: list[str], rows: Iterable[list[Any]], widths: list[int]) -> None:
        self.pdf.ln(2)
        self.pdf.set_font("Helvetica", "B", 8)
        for text, width in zip(header, widths, strict=True):
            self.pdf.cell(width, 6, _latin1(text), border=1)
        self.pdf.ln()
        self.pdf.set_font("Helvetica", "", 8)
        for row in rows:
            for text, width in zip(row, widths, strict=True):
                self.pdf.cell(width, 5, _latin1(text)[:48], border=1)
            self.pdf.ln()

    def note(self, text: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "", 8)
        self.pdf.multi_cell(0, 4, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def consulta_receipt(issuer: str, fields: list[tuple[str, Any]]) -> bytes:
    doc = Document("Comprovante de consulta", issuer)
    doc.fields(fields)
    doc.note(f"Hash de verificação (SHA-256): {verification_hash(fields)}")
    return doc.bytes()


def order_receipt(issuer: str, fields: list[tuple[str, Any]]) -> bytes:
    doc = Document("Recibo de pedido", issuer)
    doc.fields(fields)
    doc.note(f"Hash de verificação (SHA-256): {verification_hash(fields)}")
    return doc.bytes()


def statement(issuer: str, month: str, summary: list[tuple[str, Any]], lines: list[list[Any]],
              truncated: bool) -> bytes:
    doc = Document(f"Extrato mensal {month}", issuer)
    doc.fields(summary)
    doc.table(["Data", "Tipo", "Créditos", "Efeito", "Referência"], lines, [38, 25, 22, 22, 83])
    if truncated:
        doc.note("Extrato resumido: a exportação CSV do razão traz todas as linhas do período.")
    return doc.bytes()
