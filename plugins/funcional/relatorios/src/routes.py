"""The report routes: JSON reports, CSV exports and PDF documents (binary answers, ``application/pdf``)."""

from __future__ import annotations

import json
import re
from typing import Any

from appwrite.exception import AppwriteException

from bigtech.credits.ledger import effect
from bigtech.errors import NotFound, Unprocessable
from bigtech.http import Request, Response

from . import csv_export, documents, pdfs, period, statement, usage
from .access import Viewer, viewer

EXPORTS = ("consultas", "ledger", "orders", "usage")
ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
RECEIPT_STATUSES = frozenset({"paid", "refunded", "partially_refunded", "chargeback"})


def _group_by(request: Request) -> str:
    group_by = request.query.get("group_by") or "day"
    if group_by not in usage.GROUPS:
        raise Unprocessable.field("group_by", f"one of {', '.join(usage.GROUPS)}")
    return group_by


def usage_report(request: Request) -> Any:
    who = viewer(request)
    return {"usage": _usage(who, period.from_query(request.query), _group_by(request))}  # a report: one resource


def _usage(who: Viewer, span: period.Period, group_by: str) -> dict[str, Any]:
    costs = who.reader.provider_costs(span) if who.manager else None
    buckets, total = usage.build(who.reader.consultas(span, who.member), group_by, costs)
    value = who.credit_value_cents()
    return {"period": span.to_json(), "group_by": group_by, "member": who.member, "credit_value_cents": value,
            "currency": "BRL",
            "items": [b.to_json(value, who.manager) for b in buckets], "totals": total.to_json(value, who.manager),
            "appwrite_calls": who.reader.calls}


def statement_report(request: Request) -> Any:
    who = viewer(request)
    return {"statement": statement.build(who.reader, period.from_query(request.query), who.member)}


def export(request: Request, file: str) -> Any:
    kind, dot, extension = file.partition(".")
    if kind not in EXPORTS or (dot, extension) != (".", "csv"):
        raise NotFound(f"Exports are {', '.join(k + '.csv' for k in EXPORTS)}.", code="export_not_found")
    who = viewer(request)
    span = period.from_query(request.query)
    locale = request.query.get("locale") or who.config.get("csv_locale") or "pt-BR"
    if locale not in ("pt-BR", "en"):
        raise Unprocessable.field("locale", "pt-BR or en")
    rows = None
    if kind in documents.ROW_EXPORTS:
        rows = documents.count_rows(who.reader, kind, span, who.member)
        if rows > documents.sync_rows():  # too big for one answer: written into Storage by an async execution
            return Response(202, documents.start_export(request, who, kind, span, locale, rows))
        body = documents.render_rows(who.reader, kind, span, who.member, locale)
    else:
        cell = csv_export.Cell(locale)
        report = _usage(who, span, _group_by(request))
        header, lines = csv_export.usage([*report["items"], report["totals"]], cell)
        body = csv_export.render(header, lines, cell)
    name = documents.export_name(kind, span)
    kept = documents.keep(who, "export", kind, name, body.encode("utf-8"), who.member, rows=rows,
                          log=request.log.error)
    return Response(200, body, {"content-type": "text/csv; charset=utf-8",
                                "content-disposition": f'attachment; filename="{name}"',
                                **(kept.headers() if kept else {})})


def _pdf(body: bytes, name: str, kept: documents.Kept | None = None, file_id: str | None = None) -> Response:
    headers = {"content-type": "application/pdf", "content-disposition": f'inline; filename="{name}"'}
    if kept is not None:
        headers.update(kept.headers())
    elif file_id:
        headers["x-file-id"] = file_id
    return Response(200, body, headers)


def _receipt(request: Request, who: Viewer, table: str, row: Any, file_id: str, kind: str, name: str,
             render: Any) -> Response:
    """A receipt from Storage when stored before (1 call), else rendered, stored, recorded and linked."""
    if row.data.get("receipt_file_id") == file_id:
        stored = documents.stored_receipt(who, file_id)
        if stored is not None:
            return _pdf(stored, name, file_id=file_id)
    body = render()
    kept = documents.keep(who, kind, row.id, name, body, row.data.get("user_id"), file_id=file_id,
                          log=request.log.error)
    if kept is None:  # stored by a concurrent request (same derived id), or Storage refused: answer anyway
        if documents.stored_receipt(who, file_id) is not None:
            documents.link_receipt(who, table, row.id, file_id)
        return _pdf(body, name)
    documents.link_receipt(who, table, row.id, kept.file.id)
    return _pdf(body, name, kept)


def _row(who: Viewer, table: str, row_id: str, not_found: str) -> Any:
    if not ID_PATTERN.match(row_id):
        raise NotFound(f"{not_found.replace('_', ' ').capitalize()}.", code=not_found)
    try:
        who.reader.calls += 1
        return who.tables.get_row(who.reader.database_id, table, row_id)
    except AppwriteException as error:
        if error.code in (400, 404):
            raise NotFound(f"{not_found.replace('_', ' ').capitalize()}.", code=not_found) from None
        raise


def _pdf_id(file: str, code: str) -> str:
    row_id, dot, extension = file.rpartition(".")
    if (dot, extension) != (".", "pdf") or not row_id:
        raise NotFound("Documents are served as <id>.pdf.", code=code)
    return row_id


def consulta_receipt(request: Request, file: str) -> Any:
    who = viewer(request)
    row = _row(who, "consultas", _pdf_id(file, "consulta_not_found"), "consulta_not_found")
    data = row.data
    if not who.may_see(data.get("user_id")):
        raise NotFound("Consulta not found.", code="consulta_not_found")
    try:
        sources = [f"{s.get('plugin')} ({s.get('status')})" for s in json.loads(data.get("sources") or "[]")
                   if isinstance(s, dict) and s.get("plugin")]
    except ValueError:
        sources = []
    value = int(data.get("cost") or 0) * who.credit_value_cents()
    fields = [("Consulta", row.id), ("Data", getattr(row, "createdat", "")),
              ("Concluída em", data.get("completed_at") or ""), ("Titular (mascarado)", csv_export._subject(
                  data.get("input_masked"))), ("Categoria", data.get("category")), ("Produto", data.get("plugin_id")),
              ("Situação", data.get("status")), ("Finalidade", data.get("purpose")),
              ("Base legal (LGPD)", data.get("legal_basis")), ("Fontes consultadas", ", ".join(sources) or "-"),
              ("Custo", f"{int(data.get('cost') or 0)} créditos ({pdfs.brl(value)})"),
              ("Registro de auditoria", data.get("audit_id") or "-"), ("Usuário", data.get("user_id"))]
    return _receipt(request, who, "consultas", row, documents.derived_file_id("consulta", row.id),
                    "consulta_receipt", f"consulta-{row.id}.pdf", lambda: pdfs.consulta_receipt(who.issuer, fields))


def order_receipt(request: Request, file: str) -> Any:
    who = viewer(request)
    row = _row(who, "orders", _pdf_id(file, "order_not_found"), "order_not_found")
    data = row.data
    if not who.may_see(data.get("user_id")):
        raise NotFound("Order not found.", code="order_not_found")
    if data.get("status") not in RECEIPT_STATUSES:
        raise NotFound("Receipts exist for paid orders only.", code="order_not_paid")
    fields = [("Pedido", row.id), ("Data", getattr(row, "createdat", "")), ("Pago em", data.get("paid_at") or ""),
              ("Pacote", data.get("package_id")), ("Créditos", data.get("credits")),
              ("Valor", pdfs.brl(int(data.get("amount_cents") or 0))), ("Forma de pagamento", data.get("method")),
              ("Situação", data.get("status")), ("Gateway", data.get("gateway") or "-"),
              ("Id do pedido no gateway", data.get("gateway_order_id") or "-"),
              ("Id da cobrança no gateway", data.get("gateway_charge_id") or "-"), ("Usuário", data.get("user_id"))]
    # the receipt proves the order as it stands: a refund or chargeback makes a new one
    return _receipt(request, who, "orders", row, documents.derived_file_id("order", row.id, str(data.get("status"))),
                    "order_receipt", f"pedido-{row.id}.pdf", lambda: pdfs.order_receipt(who.issuer, fields))


def statement_pdf(request: Request, file: str) -> Any:
    month = _pdf_id(file, "statement_not_found")
    if not re.fullmatch(r"\d{4}-\d{2}", month):
        raise NotFound("Statements are served as YYYY-MM.pdf.", code="statement_not_found")
    who = viewer(request)
    report = statement.build(who.reader, period.month(month), who.member)
    summary = [("Período", f"{report['period']['from']} a {report['period']['to']}"),
               ("Membro", who.member or "todos os membros"), ("Saldo inicial", report["opening_balance"]),
               ("Entradas", report["credits_in"]), ("Saídas", report["credits_out"]),
               ("Saldo final", report["closing_balance"]), ("Lançamentos", report["entries_count"])]
    lines = [[e["created_at"][:19].replace("T", " ") if e["created_at"] else "", e["type"], e["amount_credits"],
              effect(e["type"], e["amount_credits"]), f"{e['reference_type'] or ''} {e['reference_id'] or ''}".strip()]
             for e in report["entries"]]
    body = pdfs.statement(who.issuer, month, summary, lines, report["truncated"])
    name = f"extrato-{month}.pdf"
    return _pdf(body, name, documents.keep(who, "statement", month, name, body, who.member, log=request.log.error))


__all__ = ["consulta_receipt", "export", "order_receipt", "statement_pdf", "statement_report",
           "usage_report"]
