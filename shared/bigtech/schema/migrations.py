"""Tenant schema migrations: versioned, per tenant, idempotent and resumable (``invoke migrate``).

Never ``appwrite push tables``: it deletes every database its file does not list. Instead each
tenant database moves through :data:`MIGRATIONS` in order, and the core table ``schema_migrations``
(row id = tenant id) records the last version applied and the fingerprint of the declared tenant
schema it was brought to. A migration's step must be idempotent (it may run again after a crash
between the step and the ledger write); the ledger is written after every step, so a run that stops
half-way resumes at the first step not recorded. A tenant already at the latest version whose
declared schema changed since (new tables or columns in ``TENANT_SCHEMA``) gets the additive
provisioning again. To change a tenant schema: declare it in ``tenant.py`` and, when data must
move too, append a :class:`Migration` with the next version.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from .core import CORE_DATABASE_ID
from .model import DatabaseSchema, Table, integer, string
from .provision import provision, provision_tenant
from .tenant import TENANT_SCHEMA

LEDGER = Table(
    "schema_migrations", "Tenant schema migrations",
    (integer("version", required=True, min=0), string("schema_hash", 64, required=True),
     string("applied_at", 40)),
    (),
    "Row id = tenant id: the last migration applied to tenant_<id> and the schema fingerprint it matches.",
)


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[TablesDB, str], object]  # (tables, tenant id); must be idempotent


def _tenant_bucket(tables: TablesDB, tenant_id: str) -> str:
    from appwrite.services.storage import Storage

    from ..storage.buckets import ensure_bucket  # the tenant's Storage bucket (docs/storage.md)

    return ensure_bucket(Storage(tables.client), tenant_id)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the declared tenant schema (additive: missing tables, columns, indexes)",
              lambda tables, tenant_id: provision_tenant(tables, tenant_id)),
    Migration(2, "the tenant's private Storage bucket tenant-<id> (files: receipts, statements, exports)",
              _tenant_bucket),
)
LATEST = MIGRATIONS[-1].version


def schema_hash(schema: DatabaseSchema = TENANT_SCHEMA) -> str:
    return hashlib.sha256(json.dumps(asdict(schema), sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class TenantResult:
    tenant_id: str
    from_version: int
    to_version: int
    applied: list[int] = field(default_factory=list)
    reprovisioned: bool = False
    error: str = ""


def ensure_ledger(tables: TablesDB) -> None:
    provision(tables, CORE_DATABASE_ID, "core", DatabaseSchema((LEDGER,)))


def tenant_ids(tables: TablesDB) -> Iterator[str]:
    cursor: str | None = None
    while True:
        queries = [Query.limit(100), Query.order_asc("$id")] + ([Query.cursor_after(cursor)] if cursor else [])
        rows = tables.list_rows(CORE_DATABASE_ID, "tenants", queries, total=False).rows
        for row in rows:
            yield row.id
        if len(rows) < 100:
            return
        cursor = rows[-1].id


def applied(tables: TablesDB, tenant_id: str) -> tuple[int, str]:
    try:
        row = tables.get_row(CORE_DATABASE_ID, LEDGER.id, tenant_id)
    except AppwriteException as error:
        if error.code == 404:
            return 0, ""
        raise
    return int(row.data.get("version") or 0), str(row.data.get("schema_hash") or "")


def _record(tables: TablesDB, tenant_id: str, version: int, fingerprint: str) -> None:
    from datetime import UTC, datetime

    data = {"version": version, "schema_hash": fingerprint, "applied_at": datetime.now(UTC).isoformat()}
    tables.upsert_row(CORE_DATABASE_ID, LEDGER.id, tenant_id, data)


def migrate_tenant(tables: TablesDB, tenant_id: str, dry_run: bool = False) -> TenantResult:
    version, recorded_hash = applied(tables, tenant_id)
    fingerprint = schema_hash()
    result = TenantResult(tenant_id, version, version)
    if version >= 1 and recorded_hash != fingerprint:
        # the declaration changed since this tenant was last brought up to date: the additive schema first,
        # so a migration below may rely on the tables and columns declared with it
        if not dry_run:
            provision_tenant(tables, tenant_id)
            _record(tables, tenant_id, version, fingerprint)
        result.reprovisioned = True
    for migration in MIGRATIONS:
        if migration.version <= version:
            continue
        if not dry_run:
            migration.apply(tables, tenant_id)
            _record(tables, tenant_id, migration.version, fingerprint)
        result.applied.append(migration.version)
        result.to_version = migration.version
    return result


def migrate(tables: TablesDB, only: list[str] | None = None, dry_run: bool = False,
            say: Callable[[str], None] = print) -> list[TenantResult]:
    """Every tenant (or ``only``), one after the other; a failing tenant is reported and the rest go on."""
    ensure_ledger(tables)
    results = []
    for tenant_id in only or list(tenant_ids(tables)):
        try:
            result = migrate_tenant(tables, tenant_id, dry_run)
        except (AppwriteException, RuntimeError, TimeoutError) as error:
            result = TenantResult(tenant_id, -1, -1, error=str(error))
        results.append(result)
        if result.error:
            say(f"tenant {tenant_id}: FAILED ({result.error}); rerun invoke migrate to resume")
        elif result.applied or result.reprovisioned:
            steps = ", ".join(f"v{v}" for v in result.applied) or "schema re-provisioned"
            say(f"tenant {tenant_id}: {'would apply' if dry_run else 'applied'} {steps} (now v{result.to_version})")
        else:
            say(f"tenant {tenant_id}: up to date (v{result.to_version})")
    return results
