"""Exports of an audit trail and its checkpoints, so an auditor can check them offline
(``bigtech.audit.offline``) with the same recomputation ``verify`` does:

- CSV: one row per entry, every column, hashes included (for spreadsheets; an empty optional cell
  reads back as null);
- JSON: the entries exactly as stored (nulls and empty strings kept apart) with the chain's id;
- checkpoints JSON: every checkpoint row of the chain, signatures included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from .chain import FIELDS, AuditEntry, normalise_datetime
from .checkpoints import Checkpoint

# Cells that a spreadsheet would run as a formula are prefixed with a quote (CSV injection); so are
# cells that already start with one, so that reading back strips exactly one quote.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")
_NULLABLE = {"actor_role", "resource_type", "resource_id", "ip"}
FORMAT = "bigtech-audit/v1"


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") else text


def to_csv(entries: Iterable[AuditEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(FIELDS)
    for entry in entries:
        row = entry.to_row()
        writer.writerow([_cell(row[name]) for name in FIELDS])
    return buffer.getvalue()


def from_csv(text: str) -> list[AuditEntry]:
    """Entries back from ``to_csv`` (an empty optional cell is null)."""
    entries = []
    for line in csv.DictReader(io.StringIO(text)):
        row: dict[str, Any] = {name: _uncell(line.get(name) or "") for name in FIELDS}
        for name in _NULLABLE:
            row[name] = row[name] or None
        row["seq"] = int(row["seq"]) if row["seq"] else None
        entries.append(AuditEntry.from_row(row))
    return entries


def _now() -> str:
    return normalise_datetime(datetime.now(UTC))


def trail_json(chain: str, entries: Iterable[AuditEntry]) -> dict[str, Any]:
    return {"format": FORMAT, "chain": chain, "exported_at": _now(),
            "entries": [{"id": entry.id, **entry.to_row()} for entry in entries]}


def checkpoints_json(chain: str, checkpoints: Iterable[Checkpoint]) -> dict[str, Any]:
    return {"format": FORMAT, "chain": chain, "exported_at": _now(), "algorithm": "Ed25519",
            "checkpoints": [checkpoint.to_json() for checkpoint in checkpoints]}
