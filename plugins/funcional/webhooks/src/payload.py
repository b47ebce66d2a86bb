"""The body of a message: ``{"type", "timestamp", "data"}`` as stable, compact JSON, never an unmasked document.

Event data is written by CORE without documents (consultas carry ids, categories, costs), but this is the
last line before data leaves the platform, so it is scrubbed again: keys that may hold personal data are
dropped and any string that is a valid CPF or CNPJ is masked.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bigtech import documents

DROPPED_KEYS = frozenset({
    "document", "cpf", "cnpj", "input", "result", "plate", "placa", "renavam", "birthdate", "email", "phone",
    "secret", "token", "password", "config", "raw", "instructions",
})
MAX_DEPTH = 8


def scrub(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        return None
    if isinstance(value, dict):
        return {str(k): scrub(v, depth + 1) for k, v in value.items() if str(k).lower() not in DROPPED_KEYS}
    if isinstance(value, list):
        return [scrub(item, depth + 1) for item in value]
    if isinstance(value, str):
        kind = documents.document_kind(value) if 11 <= len(value) <= 18 else None
        if kind is not None:
            try:
                return documents.mask(kind, value)
            except ValueError:
                return value
    return value


def body(event_type: str, occurred_at: str | datetime, data: dict[str, Any]) -> str:
    timestamp = occurred_at.isoformat() if isinstance(occurred_at, datetime) else str(occurred_at)
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": scrub(data)},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
