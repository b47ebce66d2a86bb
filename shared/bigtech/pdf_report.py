"""Small tabular PDF documents (fpdf2): a title, key/value lines and a table. Used by the LGPD subject
report and the platform invoice. The core fonts are Latin-1, so text outside it is replaced, never
dropped silently into an exception."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _latin1(value: Any) -> str:
    return str("" if value is None else value).encode("latin-1", "replace").decode("latin-1")


def render(title: str, facts: Sequence[tuple[str, Any]], header: Sequence[str], rows: Sequence[Sequence[Any]],
           widths: Sequence[float] | None = None) -> bytes:
    from fpdf import FPDF  # imported here: only the PDF paths need it

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(0, 9, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    for label, value in facts:
        pdf.cell(0, 5, _latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    usable = pdf.w - pdf.l_margin - pdf.r_margin
    sizes = list(widths) if widths else [usable / max(1, len(header))] * len(header)
    pdf.set_font("Helvetica", "B", 8)
    for text, width in zip(header, sizes, strict=True):
        pdf.cell(width, 6, _latin1(text), border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 7)
    for row in rows:
        for value, width in zip(row, sizes, strict=True):
            text = _latin1(value)
            while text and pdf.get_string_width(text) > width - 1:
                text = text[:-2] + "…".encode("latin-1", "replace").decode("latin-1")
            pdf.cell(width, 5, text, border=1)
        pdf.ln()
    return bytes(pdf.output())
