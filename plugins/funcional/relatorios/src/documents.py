"""Documents kept in the tenant's Appwrite Storage bucket: receipts, statements and CSV exports.

Every PDF and CSV this plugin answers is also stored (``bigtech.storage``), readable by the member it
is about and the tenant's managers (a tenant-wide one: managers only), and recorded in the tenant's
``documents`` table, which links the file and which retention walks (docs/storage.md). A receipt
has a file id derived from what it proves (the consulta; the order and its status), so it is stored
once and read back afterwards; the consulta/order row links it (``receipt_file_id``).

**Big exports run asynchronously.** An export whose rows exceed ``sync_rows()`` (``EXPORT_SYNC_ROWS``
= 5 000, ``BIGTECH_EXPORT_SYNC_ROWS``) answers ``202 {"document": {"id", "status": "queued", "rows"}}``
and starts an asynchronous execution of this function (``POST /documents/run``, never a synchronous
self-call), which writes the CSV into Storage and marks the row ``done`` with its file; the member
polls ``GET /documents/{id}`` and downloads the file with their JWT from Appwrite.

Storing never fails an answer: when Storage refuses, the body is still returned and the error logged.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

from appwrite.enums.execution_method import ExecutionMethod
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.services.functions import Functions
from appwrite.services.storage import Storage

from bigtech.appwrite_access import key_client
from bigtech.appwrite_access import tables as tables_of
from bigtech.errors import BigtechError, NotFound
from bigtech.http import Request
from bigtech.schema.tenant import tenant_database_id
from bigtech.storage import Audience, StoredFile, bucket_id, download, store_file

from . import csv_export, period
from .access import PLUGIN_ID, Viewer, background_target, viewer
from .readers import Reader

TABLE = "documents"
EXPORT_SYNC_ROWS = 5000
SYNC_ROWS_VARIABLE = "BIGTECH_EXPORT_SYNC_ROWS"
RUN_ACTION = "documents.run"
ROW_EXPORTS = {"consultas": "user_id", "ledger": "wallet_id", "orders": "user_id"}


def sync_rows() -> int:
    try:
        return max(0, int(os.environ.get(SYNC_ROWS_VARIABLE) or EXPORT_SYNC_ROWS))
    except ValueError:
        return EXPORT_SYNC_ROWS


@dataclass(frozen=True)
class Kept:
    document_id: str
    file: StoredFile

    def headers(self) -> dict[str, str]:
        return {"x-document-id": self.document_id, "x-file-id": self.file.id, "x-bucket-id": self.file.bucket_id}


def derived_file_id(*parts: str) -> str:
    """A receipt's file id from what it proves: stored once, found again without a lookup."""
    return "r" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:35]


def keep(who: Viewer, kind: str, subject: str, name: str, data: bytes, reader: str | None, *,
         file_id: str | None = None, rows: int | None = None, log: Any = None) -> Kept | None:
    """Store ``data`` (1 call per 5 MB) and record it in ``documents`` (1 call); None when Storage refused."""
    try:
        stored = store_file(Storage(who.tables.client), Audience(who.tenant_id, reader), name, data, file_id)
        document_id = ID.unique()
        who.tables.create_row(who.reader.database_id, TABLE, document_id, {
            "kind": kind, "subject": subject, "created_by": who.user_id, "reader": reader, "status": "done",
            "file_id": stored.id, "name": stored.name, "size": stored.size, "rows": rows})
        who.reader.calls += 2
    except AppwriteException as error:
        if log is not None:
            log(f"{kind} {subject}: not stored in Storage ({error.code} {error.type}: {str(error.message)[:200]})")
        return None
    return Kept(document_id, stored)


def stored_receipt(who: Viewer, file_id: str) -> bytes | None:
    """A receipt stored before (1 call), or None when it is not (yet, or any more: retention)."""
    try:
        who.reader.calls += 1
        return download(Storage(who.tables.client), who.tenant_id, file_id)
    except AppwriteException:
        return None


def link_receipt(who: Viewer, table: str, row_id: str, file_id: str) -> None:
    try:
        who.reader.calls += 1
        who.tables.update_row(who.reader.database_id, table, row_id, {"receipt_file_id": file_id})
    except AppwriteException:
        pass  # the file exists; the link is written again next time


def export_queries(kind: str, span: period.Period, member: str | None) -> list[str]:
    from .readers import _between, _who

    return [*_between(span), *_who(ROW_EXPORTS[kind], member)]


def count_rows(reader: Reader, kind: str, span: period.Period, member: str | None) -> int:
    from appwrite.query import Query

    reader.calls += 1
    return int(reader.tables.list_rows(reader.database_id, kind,
                                       [*export_queries(kind, span, member), Query.limit(1)], total=True).total)


def render_rows(reader: Reader, kind: str, span: period.Period, member: str | None, locale: str) -> str:
    cell = csv_export.Cell(locale)
    sources: dict[str, Any] = {"consultas": reader.consultas, "ledger": reader.ledger, "orders": reader.orders}
    source = sources[kind](span, member)
    render_kind: Any = getattr(csv_export, kind)  # csv_export.consultas / ledger / orders
    header, lines = render_kind(source, cell)
    return csv_export.render(header, lines, cell)


def export_name(kind: str, span: period.Period) -> str:
    return f"{kind}-{span.first_day.isoformat()}-{span.last_day.isoformat()}.csv"


def start_export(request: Request, who: Viewer, kind: str, span: period.Period, locale: str, rows: int
                 ) -> dict[str, Any]:
    """Record the export (``queued``) and start its asynchronous execution: 2 calls."""
    params = {"kind": kind, **span.to_json(), "locale": locale, "member": who.member}
    document_id = ID.unique()
    who.tables.create_row(who.reader.database_id, TABLE, document_id, {
        "kind": "export", "subject": kind, "created_by": who.user_id, "reader": who.member, "status": "queued",
        "params": json.dumps(params), "rows": rows})
    Functions(key_client(request)).create_execution(
        PLUGIN_ID, body=json.dumps({"tenant_id": who.tenant_id, "document_id": document_id}), xasync=True,
        path="/documents/run", method=ExecutionMethod.POST, headers={"content-type": "application/json"})
    return {"document": {"id": document_id, "kind": "export", "subject": kind, "status": "queued", "rows": rows,
                         "params": params}}


def read(request: Request, document_id: str) -> Any:
    who = viewer(request)
    try:
        row = who.tables.get_row(who.reader.database_id, TABLE, document_id) if len(document_id) <= 36 else None
    except AppwriteException:
        row = None
    if row is None or not who.may_see(row.data.get("created_by")):
        raise NotFound("Document not found.", code="document_not_found")
    return {"document": public(row.id, row.data, who.tenant_id)}


def public(document_id: str, data: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    file_id = data.get("file_id")
    return {"id": document_id, "kind": data.get("kind"), "subject": data.get("subject"),
            "status": data.get("status"), "rows": data.get("rows"), "size": data.get("size"),
            "error": data.get("error"),
            "file": {"file_id": file_id, "bucket_id": bucket_id(tenant_id), "name": data.get("name")}
            if file_id else None}


def run(request: Request) -> Any:
    """An export's own asynchronous execution (a key, no user): read every row, store the CSV, link it."""
    tenant_id, document_id = background_target(request, "document_id", "Exports")
    tables = tables_of(request)
    database_id = tenant_database_id(tenant_id)
    try:
        row = tables.get_row(database_id, TABLE, document_id)
    except AppwriteException:
        raise NotFound("Document not found.", code="document_not_found") from None
    if row.data.get("status") != "queued":
        return {"status": row.data.get("status")}
    tables.update_row(database_id, TABLE, document_id, {"status": "running"})
    params = json.loads(row.data.get("params") or "{}")
    reader = Reader(tables, database_id)
    span = period.from_query({"from": params["from"], "to": params["to"]})
    try:
        text = render_rows(reader, params["kind"], span, params.get("member"), params.get("locale") or "pt-BR")
        stored = store_file(Storage(tables.client), Audience(tenant_id, params.get("member")),
                            export_name(params["kind"], span), text.encode("utf-8"))
    except Exception as error:  # recorded on the document for the member polling it; never left "running"
        reason = getattr(error, "code", None) if isinstance(error, BigtechError | AppwriteException) else None
        reason = reason or type(error).__name__
        tables.update_row(database_id, TABLE, document_id, {"status": "failed", "error": str(reason)[:1000],
                                                            "appwrite_calls": reader.calls + 3})
        return {"status": "failed"}
    tables.update_row(database_id, TABLE, document_id, {
        "status": "done", "file_id": stored.id, "name": stored.name, "size": stored.size,
        "appwrite_calls": reader.calls + 4 + stored.size // (5 * 1024 * 1024)})
    return {"status": "done"}
