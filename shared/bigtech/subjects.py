"""Data subjects (LGPD art. 18–19): the keyed document hash consultas are indexed by, and the search
for every consulta about one CPF/CNPJ in one tenant's database.

The hash is ``documents.hash_document`` under the data key: ``BIGTECH_DATA_KEY``, else a key derived
from ``BIGTECH_SECRETS_KEY`` — the same derivation the consultas function uses when it stores
``consultas.document_hash`` (a key index), so a subject is found with one indexed query per tenant and
no document is ever stored or searched in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from . import documents, secrets_box
from .settings import load_settings

PAGE = 500


def document_key() -> bytes | None:
    """Key of the document HMAC; ``None`` when neither ``BIGTECH_DATA_KEY`` nor the secrets key is set."""
    data_key = load_settings().data_key
    if data_key:
        return data_key.encode("utf-8")
    try:
        return hmac.new(secrets_box.load_key(), b"bigtech-document-hash", hashlib.sha256).digest()
    except secrets_box.SecretsKeyMissing:
        return None


def subject_hash(document: documents.Document, key: bytes) -> str:
    return documents.hash_document(document.kind, document.number, key)


def _sources(value: Any) -> list[str]:
    try:
        parsed = json.loads(value or "[]")
    except ValueError:
        return []
    names = []
    for item in parsed if isinstance(parsed, list) else []:
        name = item.get("plugin") if isinstance(item, dict) else item
        if name and str(name) not in names:
            names.append(str(name))
    return names


def consultas_about(tables: TablesDB, database_id: str, document_hash: str) -> list[dict[str, Any]]:
    """Every consulta of one tenant about the subject, newest first (never the result itself)."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        queries = [Query.equal("document_hash", document_hash), Query.order_desc("$createdAt"), Query.limit(PAGE)]
        if cursor:
            queries.append(Query.cursor_after(cursor))
        rows = tables.list_rows(database_id, "consultas", queries, total=False).rows
        for row in rows:
            data = row.data
            found.append({
                "id": row.id, "at": row.createdat, "completed_at": data.get("completed_at"),
                "user_id": data.get("user_id"), "category": data.get("category"), "status": data.get("status"),
                "input_masked": data.get("input_masked"), "purpose": data.get("purpose"),
                "legal_basis": data.get("legal_basis"), "sources": _sources(data.get("sources")),
                "result_retained": data.get("result") is not None,
            })
        if len(rows) < PAGE:
            return found
        cursor = rows[-1].id
