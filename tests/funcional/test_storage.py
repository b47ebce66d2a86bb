"""Files in Appwrite Storage, end to end on the local stack (docs/storage.md): a fonte's source receipt,
consulta receipt PDFs, CSV exports (synchronous and asynchronous) stored in the tenant's private bucket,
downloaded by the right members with their JWT, hidden from everyone else, and removed by retention."""

from __future__ import annotations

import base64
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB

from bigtech.ops.retention import run_retention
from tests.conftest import make_client
from tests.support.actors import add_member

from .conftest import new_tenant

PLUGIN = "funcional-relatorios"
CPF_OK = "52998224725"
RECEIPT = b"%PDF-1.4\n% the source's own page about the query\n%%EOF\n"


class ReceiptServer:
    """Where the (sandbox) fonte says its receipt is: serves a PDF, or HTML pretending to be one."""

    def __init__(self) -> None:
        self.hits = 0

    def __enter__(self) -> ReceiptServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                kind, body = ("application/pdf", RECEIPT) if self.path.endswith(".pdf") else \
                    ("application/x-msdownload", b"MZ not a receipt")
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receipts():
    with ReceiptServer() as server:
        yield server


@pytest.fixture(scope="module")
def world(stack, admin, receipts):
    allow = pytest.MonkeyPatch()
    allow.setenv("BIGTECH_OUTBOUND_ALLOW_HOSTS", receipts.url("").removeprefix("http://"))
    tenant_id, owner = new_tenant(stack, admin, "sto", PLUGIN)
    other_id, other_owner = new_tenant(stack, admin, "stx", PLUGIN)
    configured = owner.call("plugins", "PUT", "/fonte-sandbox",
                            {"enabled": True, "config": {"site_receipt_url": receipts.url("/r.pdf")}})
    assert configured.status == 200, configured
    analyst, viewer = add_member(owner, "analyst"), add_member(owner, "viewer")
    assert owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 1000,
                                                      "reason": "storage"}).status == 201
    ran = analyst.call("consultas", "POST", "/", {"category": "cadastral", "document": CPF_OK,
                                                  "purpose": "onboarding/KYC", "legal_basis": "protecao_credito"}
                       ).unwrapped("consulta")
    assert ran.status == 201, ran
    yield {"tenant": tenant_id, "owner": owner, "analyst": analyst, "viewer": viewer, "consulta": ran.body,
           "other_owner": other_owner, "other": other_id}
    allow.undo()


def files_of(stack, actor) -> Storage:
    return Storage(make_client(stack, jwt=actor.jwt))


def guest(stack) -> Storage:
    return Storage(make_client(stack, key=""))


def binary(result) -> bytes:
    assert result.status == 200, result
    return result.raw.encode("latin-1") if result.raw.startswith("%PDF") else base64.b64decode(result.raw)


def hidden(storage: Storage, bucket: str, file_id: str) -> int:
    with pytest.raises(AppwriteException) as refused:
        storage.get_file_download(bucket, file_id)
    return refused.value.code


def test_the_tenant_bucket_is_private_with_limits(stack, world):
    bucket = Storage(make_client(stack)).get_bucket(f"tenant-{world['tenant']}")
    assert (bucket.filesecurity, bucket.permissions, bucket.encryption, bucket.antivirus) == (True, [], True, True)
    assert "pdf" in bucket.allowedfileextensions and "exe" not in bucket.allowedfileextensions
    assert bucket.maximumfilesize == 25_000_000


def test_a_source_receipt_is_stored_and_only_its_members_download_it(stack, world):
    [link] = world["consulta"]["files"]["source_receipts"]
    bucket, file_id = link["bucket_id"], link["file_id"]
    assert bucket == f"tenant-{world['tenant']}" and link["mime_type"] == "application/pdf"
    assert files_of(stack, world["analyst"]).get_file_download(bucket, file_id) == RECEIPT  # who ran it
    assert files_of(stack, world["owner"]).get_file_download(bucket, file_id) == RECEIPT  # a manager
    assert hidden(files_of(stack, world["viewer"]), bucket, file_id) == 404  # same tenant, not theirs
    assert hidden(files_of(stack, world["other_owner"]), bucket, file_id) == 404  # another tenant
    assert hidden(guest(stack), bucket, file_id) in (401, 404)
    again = world["analyst"].call("consultas", "GET", f"/{world['consulta']['id']}").unwrapped("consulta").body
    assert again["files"]["source_receipts"] == [link]


def test_a_receipt_that_is_not_a_receipt_is_dropped_and_the_consulta_still_succeeds(stack, world, receipts):
    owner, analyst = world["owner"], world["analyst"]
    assert owner.call("plugins", "PUT", "/fonte-sandbox",
                      {"enabled": True, "config": {"site_receipt_url": receipts.url("/r.exe")}}).status == 200
    try:
        ran = analyst.call("consultas", "POST", "/", {"category": "cadastral", "document": CPF_OK,
                                                      "purpose": "onboarding/KYC", "legal_basis": "protecao_credito"}
                           ).unwrapped("consulta")
    finally:
        owner.call("plugins", "PUT", "/fonte-sandbox",
                   {"enabled": True, "config": {"site_receipt_url": receipts.url("/r.pdf")}})
    assert ran.status == 201 and ran.body["status"] == "succeeded"
    assert ran.body["files"]["source_receipts"] == []


def test_a_consulta_receipt_pdf_is_stored_once_and_downloadable(stack, world):
    analyst, consulta_id = world["analyst"], world["consulta"]["id"]
    first = analyst.call(PLUGIN, "GET", f"/receipts/consultas/{consulta_id}.pdf")
    pdf, file_id = binary(first), first.headers["x-file-id"]
    bucket = f"tenant-{world['tenant']}"
    assert files_of(stack, analyst).get_file_download(bucket, file_id) == pdf
    again = analyst.call(PLUGIN, "GET", f"/receipts/consultas/{consulta_id}.pdf")
    assert binary(again) == pdf and again.headers["x-file-id"] == file_id and "x-document-id" not in again.headers
    row = analyst.call("consultas", "GET", f"/{consulta_id}").unwrapped("consulta").body
    assert row["files"]["receipt"] == {"file_id": file_id}
    assert hidden(files_of(stack, world["other_owner"]), bucket, file_id) == 404


def test_a_csv_export_is_stored_for_managers_only(stack, world):
    owner = world["owner"]
    today = datetime.now(UTC).date().isoformat()
    exported = owner.call(PLUGIN, "GET", f"/exports/consultas.csv?from={today}&to={today}")
    assert exported.status == 200, exported
    bucket, file_id = exported.headers["x-bucket-id"], exported.headers["x-file-id"]
    stored = files_of(stack, owner).get_file_download(bucket, file_id)
    assert stored.decode("utf-8") == exported.raw and world["consulta"]["id"] in exported.raw
    assert hidden(files_of(stack, world["analyst"]), bucket, file_id) == 404  # a tenant-wide export
    document = owner.call(PLUGIN, "GET", f"/documents/{exported.headers['x-document-id']}").body["document"]
    assert (document["kind"], document["status"], document["file"]["file_id"]) == ("export", "done", file_id)


def test_a_large_export_answers_202_and_an_async_execution_stores_it(stack, world, monkeypatch):
    monkeypatch.setenv("BIGTECH_EXPORT_SYNC_ROWS", "1")  # the two consultas of the tenant are "large"
    owner = world["owner"]
    today = datetime.now(UTC).date().isoformat()
    started = owner.call(PLUGIN, "GET", f"/exports/consultas.csv?from={today}&to={today}&locale=en")
    assert started.status == 202, started
    document_id = started.body["document"]["id"]
    assert started.body["document"]["status"] == "queued" and started.body["document"]["rows"] >= 2
    deadline = time.monotonic() + 30
    while True:
        document = owner.call(PLUGIN, "GET", f"/documents/{document_id}").body["document"]
        if document["status"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert document["status"] == "done", document
    csv_text = files_of(stack, owner).get_file_download(document["file"]["bucket_id"],
                                                        document["file"]["file_id"]).decode("utf-8")
    assert world["consulta"]["id"] in csv_text and csv_text.count("\r\n") >= 3
    stranger = world["other_owner"].call(PLUGIN, "GET", f"/documents/{document_id}")
    assert stranger.status == 404


def test_retention_removes_old_files_with_their_rows(stack, world):
    bucket = f"tenant-{world['tenant']}"
    storage = Storage(make_client(stack))
    before = storage.list_files(bucket).total
    assert before >= 3
    later = datetime.now(UTC) + timedelta(days=100)  # results (and source receipts) 90 days, documents 30
    report = run_retention(TablesDB(make_client(stack)), tenant=world["tenant"], now=later, progress=lambda _: None)
    assert not report.errors and report.purged[f"{world['tenant']}/files"] == before
    assert storage.list_files(bucket).total == 0
    tables = TablesDB(make_client(stack))
    assert tables.list_rows(f"tenant_{world['tenant']}", "documents").total == 0
    row = tables.get_row(f"tenant_{world['tenant']}", "consultas", world["consulta"]["id"])
    assert row.data["source_receipts"] is None
    # a receipt removed by retention is simply made again on demand
    again = world["analyst"].call(PLUGIN, "GET", f"/receipts/consultas/{world['consulta']['id']}.pdf")
    assert binary(again).startswith(b"%PDF") and storage.list_files(bucket).total == 1
