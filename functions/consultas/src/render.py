"""A consulta as the API shows it, and as it is stored (``consultas`` row).

Data minimisation (LGPD art. 6 III; docs/security.md, "Data minimisation"): the stored ``result`` holds
the full documents the sources returned. Who sees them in full is decided here, once, for every read
path (``POST /`` answer, ``GET /{id}``, and any export built on ``to_public``):

- the member who ran the consulta, and the tenant's owners and admins (and platform admins acting in
  the tenant) → the result as stored;
- everyone else who may read it (viewers; analysts only ever read their own) → every CPF/CNPJ in the
  result masked (``***.456.789-**``, ``**.222.333/0001-**``), wherever it appears, and vehicle
  identifiers (plate, RENAVAM, chassis) masked like the stored ``input``.

Masking is by shape as well as by field name, so a source that returns a partner's CPF inside free
text is masked too; over-masking an 11-digit number is the accepted price of never under-masking.
"""

from __future__ import annotations

import json
from typing import Any

from bigtech.documents import mask
from bigtech.log import mask_text
from bigtech.permissions import ADMIN, OWNER, PLATFORM_ADMIN
from bigtech.plugins import PluginResult, Status

SOURCES_LIMIT = 4000  # the ``sources`` column holds 4096 characters
OUTCOME = {Status.OK: "succeeded", Status.NOT_FOUND: "not_found"}


def consulta_status(result: PluginResult) -> str:
    return OUTCOME.get(result.status, "failed")


def charges(result: PluginResult) -> bool:
    """An answer (data or "nada consta") is paid for; so is a source error the provider billed.
    Timeouts, unavailable sources and non-billable errors are not."""
    return result.status in (Status.OK, Status.NOT_FOUND) or result.billable


def public_sources(result: PluginResult) -> list[dict[str, Any]]:
    """Every fonte tried, in order, and how it went (no provider cost, no provider receipts)."""
    sources = []
    for attempt in result.sources:
        item: dict[str, Any] = {"plugin": attempt.plugin, "status": attempt.status.value, "billable": attempt.billable,
                                "elapsed_ms": attempt.elapsed_ms}
        if attempt.query:
            item["query"] = attempt.query
        if attempt.error is not None:
            item["error"] = {"code": attempt.error.code, "message": attempt.error.message}
        sources.append(item)
    return sources


def sources_json(sources: list[dict[str, Any]]) -> str:
    text = json.dumps(sources, separators=(",", ":"), ensure_ascii=False)
    while len(text) > SOURCES_LIMIT and sources:  # keep the first attempts: they explain the fallback
        sources = sources[:-1]
        text = json.dumps([*sources, {"truncated": True}], separators=(",", ":"), ensure_ascii=False)
    return text


def error_of(result: PluginResult) -> dict[str, str] | None:
    first = result.first_error
    if first is None:
        return None
    return {"code": first.code, "message": first.message[:500]}


def _loads(text: Any, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


FULL_DOCUMENT_ROLES = frozenset({OWNER, ADMIN, PLATFORM_ADMIN})
# result fields holding vehicle identifiers → the documents.mask kind that masks them
VEHICLE_KEYS = {"placa": "placa", "placa_mercosul": "placa", "renavam": "renavam", "chassi": "chassi"}


def sees_full_documents(role: str | None, user_id: str | None, ran_by: str | None) -> bool:
    """Whether a caller with ``role`` sees full documents in a consulta run by ``ran_by``."""
    return role in FULL_DOCUMENT_ROLES or (bool(user_id) and user_id == ran_by)


def masked(value: Any) -> Any:
    """``value`` (a stored result) with every document masked; iterative: depth is not the caller's."""
    root: list[Any] = [value]
    pending: list[tuple[Any, Any]] = [(root, 0)]
    while pending:
        container, key = pending.pop()
        item = container[key]
        if isinstance(item, str):
            container[key] = mask_text(item)
        elif isinstance(item, dict):
            copy = dict(item)
            container[key] = copy
            for name, child in copy.items():
                kind = VEHICLE_KEYS.get(str(name).lower())
                if kind is not None and isinstance(child, str):
                    copy[name] = mask(kind, child) if kind != "chassi" else (child[:3] + "*" * max(len(child) - 3, 0))
                else:
                    pending.append((copy, name))
        elif isinstance(item, list):
            copy_list = list(item)
            container[key] = copy_list
            pending.extend((copy_list, index) for index in range(len(copy_list)))
    return root[0]


def to_public(row: Any, *, with_result: bool = True, full_documents: bool = True) -> dict[str, Any]:
    """The API view of a consulta row; ``full_documents=False`` masks the result (see module doc)."""
    data = row.data
    public = {
        "id": row.id,
        "category": data.get("category"),
        "status": data.get("status"),
        "cost_credits": int(data.get("cost") or 0),  # the ``cost`` column, in credits (docs/api-style.md)
        "input": _loads(data.get("input_masked"), {}),
        "purpose": data.get("purpose"),
        "legal_basis": data.get("legal_basis"),
        "user_id": data.get("user_id"),
        "plugin_id": data.get("plugin_id"),
        "sources": _loads(data.get("sources"), []),
        "error": _loads(data.get("error"), None),
        "created_at": row.createdat,
        "completed_at": data.get("completed_at"),
        "audit_id": data.get("audit_id"),
    }
    if with_result:
        result = _loads(data.get("result"), None)
        public["result"] = result if full_documents else masked(result)
        public["documents"] = "full" if full_documents else "masked"
        # Appwrite Storage links (docs/storage.md): only readers of the full result are granted the files
        public["files"] = files_of(data) if full_documents else {"source_receipts": [], "receipt": None}
    if not full_documents:
        public["error"] = masked(public["error"])
    return public


def files_of(data: dict[str, Any]) -> dict[str, Any]:
    """The consulta's files in the tenant's bucket: download with the member's JWT through Appwrite."""
    receipts = _loads(data.get("source_receipts"), [])
    receipt = data.get("receipt_file_id")
    return {"source_receipts": receipts if isinstance(receipts, list) else [],
            "receipt": {"file_id": receipt} if receipt else None}


def for_reader(row: Any, role: str | None, user_id: str | None, *, with_result: bool = True) -> dict[str, Any]:
    """``to_public`` as ``role``/``user_id`` may see it: the one entry point for read paths."""
    full = sees_full_documents(role, user_id, row.data.get("user_id"))
    return to_public(row, with_result=with_result, full_documents=full)
