"""CSV export of an audit trail: one row per entry, every column, hashes included, so the file can be
checked offline with the same recomputation ``verify`` does."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .chain import FIELDS, AuditEntry

# Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def to_csv(entries: Iterable[AuditEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for entry in entries:
        row = entry.to_row()
        writer.writerow([_cell(row[name]) for name in FIELDS])
    return buffer.getvalue()
