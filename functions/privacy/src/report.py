"""``POST /subject-report`` {document, scope?}: every consulta about a CPF/CNPJ (LGPD art. 18–19).

A tenant's owner or admin gets their tenant's consultas (the tenant is the controller that answers the
subject); a platform admin with ``scope: "platform"`` gets every tenant's (the platform is the operator
and answers the ANPD or a controller's request). Found through the keyed document hash with one indexed
query per tenant; the report never contains the document in clear nor any consulta result. The request
itself is audited — in the tenant's trail, or the platform's for a platform-wide report — naming the
subject only by its keyed hash and mask.

A tenant whose database cannot be read (a tenant row left without its database) is not skipped in
silence: the report names it in ``unreachable_tenants`` and says ``complete: false``, because a
data-subject answer that leaves a controller out must say so.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users

from bigtech import appwrite_access, pdf_report
from bigtech.audit import AuditTrail, audit_id
from bigtech.audited import Actor, commit_change
from bigtech.credits.reaper import tenant_ids
from bigtech.documents import Document, InvalidDocument
from bigtech.errors import Conflict, Unprocessable
from bigtech.http import Request, Response
from bigtech.identity import AppwriteDirectory, Identity, resolve
from bigtech.schema.tenant import tenant_database_id
from bigtech.subjects import consultas_about, document_key, subject_hash
from bigtech.tenancy import find_tenant

from .models import SubjectReportBody

TENANT_ACTION = "subject_reports.export"
PLATFORM_ACTION = "platform_subject_reports.export"


def create(request: Request) -> Any:
    body = request.model(SubjectReportBody)
    client = appwrite_access.key_client(request)
    tables, users = TablesDB(client), Users(client)
    action = PLATFORM_ACTION if body.scope == "platform" else TENANT_ACTION
    identity = resolve(request.headers, action, AppwriteDirectory(users, tables))
    try:
        document = Document.parse(body.document)
    except InvalidDocument as invalid:
        raise Unprocessable.field("document", f"not a valid CPF or CNPJ ({invalid.reason})") from None
    key = document_key()
    if key is None:
        raise Conflict("Documents are not indexed on this platform (no BIGTECH_DATA_KEY or BIGTECH_SECRETS_KEY).",
                       code="subject_index_unavailable")
    hashed = subject_hash(document, key)
    tenants = tenant_ids(tables) if body.scope == "platform" else [t for t in [identity.tenant_id] if t]
    controllers, items, unreachable = [], [], []
    for tenant_id in tenants:
        try:
            found = consultas_about(tables, tenant_database_id(tenant_id), hashed)
        except AppwriteException as error:
            if error.code != 404:
                raise
            unreachable.append(tenant_id)
            continue
        if not found:
            continue
        tenant = find_tenant(tables, tenant_id)
        controllers.append({"tenant_id": tenant_id, "name": tenant.name if tenant else None})
        items += [{"tenant_id": tenant_id, **item} for item in found]
    _name_requesters(users, items)
    items.sort(key=lambda item: item["at"] or "", reverse=True)
    entry = _audit(tables, identity, body.scope, document, hashed, len(items), len(controllers))
    report = {
        "subject": {"kind": document.kind, "masked": document.masked},
        "scope": body.scope,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "operator": "Bigtech (platform operator, LGPD art. 5 VII)",
        "controllers": controllers,
        "consultas": items,
        "total": len(items),
        "complete": not unreachable,
        "unreachable_tenants": unreachable,
    }
    if body.format == "pdf":
        return Response(200, as_pdf(report, audit_id(entry)), {"content-type": "application/pdf",
                                                                "x-audit-id": audit_id(entry)})
    return {"report": report, "audit_id": audit_id(entry)}


def as_pdf(report: dict[str, Any], entry_id: str) -> bytes:
    facts = [("Subject", f"{report['subject']['kind'].upper()} {report['subject']['masked']}"),
             ("Scope", report["scope"]), ("Generated at", report["generated_at"]), ("Operator", report["operator"]),
             ("Controllers", ", ".join(f"{c['name']} ({c['tenant_id']})" for c in report["controllers"]) or "-"),
             ("Consultas", report["total"]), ("Audit entry", entry_id)]
    if report["unreachable_tenants"]:
        facts.append(("NOT SEARCHED (database unreadable)", ", ".join(report["unreachable_tenants"])))
    header = ("When", "Tenant", "Requested by", "Category", "Status", "Purpose", "Legal basis", "Sources")
    rows = [(c["at"], c["tenant_id"], c["requested_by"].get("email") or c["user_id"], c["category"], c["status"],
             c["purpose"], c["legal_basis"], ", ".join(c["sources"])) for c in report["consultas"]]
    return pdf_report.render("LGPD data-subject report (art. 18-19)", facts, header, rows,
                             widths=(38, 34, 46, 20, 18, 52, 32, 37))


def _name_requesters(users: Users, items: list[dict[str, Any]]) -> None:
    """"By whom": each requester's name and e-mail (one look-up per distinct user)."""
    people: dict[str, dict[str, Any]] = {}
    for item in items:
        user_id = item.get("user_id")
        if user_id and user_id not in people:
            try:
                user = users.get(user_id)
                people[user_id] = {"name": user.name, "email": user.email}
            except Exception:  # a removed user: the id is still the answer
                people[user_id] = {"name": None, "email": None}
        item["requested_by"] = {"user_id": user_id, **(people.get(user_id, {}) if user_id else {})}


def _audit(tables: TablesDB, identity: Identity, scope: str, document: Document, hashed: str, found: int,
           tenants: int) -> Any:
    trail = AuditTrail.platform() if scope == "platform" else AuditTrail.tenant(identity.database_id)
    details = {"subject_masked": document.masked, "subject_hash": hashed, "scope": scope, "consultas": found,
               "tenants": tenants}
    entry, _ = commit_change(tables, trail, Actor.of(identity), action="privacy.subject_report",
                             resource=("subject", hashed[:32]), details=details)
    return entry
