"""Back up one database (a tenant's or the core) to the backup store.

Layout: ``<prefix>/<database id>/<backup id>/manifest.json`` and one ``<table>.ndjson.gz`` per table,
``<backup id>`` = ``YYYYMMDDTHHMMSSZ-full`` or ``-incr`` (they sort by time). A **full** backup saves
every row. An **incremental** one (when a full backup of the last ``FULL_EVERY_DAYS`` days exists)
saves, for the tables whose rows are never deleted (``DELTA_TABLES``: ledger, audit, consultas,
orders…), only the rows updated since the previous backup began, and the small tables whose rows can
be deleted (idempotency keys, dedupe markers, rate limits…) in full: that is where it is cheap.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB

from ..credits.ledger import EFFECT
from ..schema.core import CORE_DATABASE_ID, CORE_SCHEMA
from ..schema.migrations import LEDGER as MIGRATIONS_LEDGER
from ..schema.model import DatabaseSchema
from ..schema.tenant import TENANT_SCHEMA, tenant_database_id
from .files_io import backup_files
from .manifest import Manifest, TableFile, mac_key, schema_version
from .store import BackupStore
from .tables_io import CallCounter, count_rows, read_rows

DELTA_TABLES = frozenset({"ledger", "audit", "consultas", "orders", "outbox", "wallets", "deliveries",
                          "webhook_deliveries", "platform_audit", "platform_usage"})
FULL_EVERY_DAYS = 7
CHECKPOINTS_TABLE = "audit_checkpoints"  # core; added by the audit checkpoints work (may be absent)
MANIFEST = "manifest.json"
# the core database as backed up and restored: its declared tables plus the migrations ledger that
# `invoke bootstrap`/`migrate` keep there (without it a restored core would re-run every migration)
CORE_BACKUP_SCHEMA = DatabaseSchema((*CORE_SCHEMA.tables, MIGRATIONS_LEDGER))
CHECKPOINTS_FILE = "checkpoints.ndjson.gz"  # the chain's signed checkpoints (not a table of this database)

Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


@dataclass
class BackupReport:
    backup_id: str
    database_id: str
    kind: str
    rows: int = 0
    bytes: int = 0
    seconds: float = 0.0
    appwrite_calls: int = 0
    s3_calls: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_backup_time(backup_id: str) -> datetime:
    return datetime.strptime(backup_id.split("-", 1)[0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def list_backups(store: BackupStore, database_id: str) -> list[str]:
    return store.list_folders(store.key(database_id))


def load_manifest(store: BackupStore, database_id: str, backup_id: str) -> Manifest:
    return Manifest.model_validate_json(store.get(store.key(database_id, backup_id, MANIFEST)))


def encode_rows(rows: list[dict[str, Any]]) -> bytes:
    lines = "".join(json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n" for row in rows)
    return gzip.compress(lines.encode("utf-8"), mtime=0)


def decode_rows(blob: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line]


def _previous(store: BackupStore, database_id: str, now: datetime) -> tuple[str | None, Manifest | None]:
    """The latest backup when the chain it ends has a full backup younger than ``FULL_EVERY_DAYS``."""
    backups = list_backups(store, database_id)
    fulls = [b for b in backups if b.endswith("-full")]
    if not fulls or now - parse_backup_time(fulls[-1]) >= timedelta(days=FULL_EVERY_DAYS):
        return None, None
    latest = backups[-1]
    try:
        return latest, load_manifest(store, database_id, latest)
    except Exception:  # an unfinished or unreadable backup cannot be a base: start a full one
        return None, None


def backup_database(tables: TablesDB, store: BackupStore, database_id: str, schema: DatabaseSchema, *,
                    tenant_id: str | None = None, full: bool = False, progress: Progress = _quiet,
                    now: datetime | None = None) -> BackupReport:
    started = datetime.now(UTC) if now is None else now
    base_id, base = (None, None) if full else _previous(store, database_id, started)
    kind = "incremental" if base else "full"
    backup_id = f"{stamp(started)}-{'incr' if base else 'full'}"
    if base_id == backup_id:  # two runs in one second: the newer one is a full backup under its own id
        backup_id, kind, base_id, base = f"{stamp(started)}-full", "full", None, None
    counter = CallCounter()
    report = BackupReport(backup_id, database_id, kind)
    clock = datetime.now(UTC)
    cutoff = iso(started)
    manifest = Manifest(backup_id=backup_id, database_id=database_id, tenant_id=tenant_id, kind=kind,
                        base=base_id, since=base.cutoff if base else None, cutoff=cutoff,
                        schema_version=schema_version(schema))
    progress(f"{database_id}: {kind} backup {backup_id}" + (f" (since {manifest.since})" if base else ""))
    exported: dict[str, list[dict[str, Any]]] = {}
    for table in schema.tables:
        delta = base is not None and table.id in DELTA_TABLES
        filters = [Query.greater_than("$updatedAt", manifest.since)] if delta else []
        try:
            rows = list(read_rows(tables, database_id, table.id, filters, counter))
        except AppwriteException as error:
            if error.code == 404:  # a table this database does not have yet (older schema): nothing to save
                progress(f"{database_id}: {table.id} absent, skipped")
                continue
            raise
        total = count_rows(tables, database_id, table.id, [Query.less_than_equal("$createdAt", cutoff)],
                           counter) if delta else len(rows)
        blob = encode_rows(rows)
        key = f"{table.id}.ndjson.gz"
        store.put(store.key(database_id, backup_id, key), blob, "application/gzip")
        manifest.tables[table.id] = TableFile(key=key, rows=len(rows), sha256=hashlib.sha256(blob).hexdigest(),
                                              bytes=len(blob), mode="delta" if delta else "full", total=total)
        exported[table.id] = rows
        report.rows += len(rows)
        report.bytes += len(blob)
        report.tables[table.id] = len(rows)
        progress(f"{database_id}: {table.id} {len(rows)} rows{' (delta)' if delta else ''}, {len(blob)} bytes")
    if tenant_id is not None:  # the tenant's bucket: new files copied once, every file named in the manifest
        manifest.files = backup_files(Storage(tables.client), store, tenant_id, counter, progress)
        report.files = len(manifest.files)
    manifest.audit = _audit_state(tables, database_id, exported, counter)
    manifest.checkpoints = _save_checkpoints(tables, store, manifest, counter)
    manifest.ledger = ledger_totals(exported.get("ledger"), exported.get("wallets")) if not base else {}
    manifest.finished_at = iso(datetime.now(UTC))
    sealed = manifest.sealed(mac_key())
    store.put(store.key(database_id, backup_id, MANIFEST), sealed.to_bytes(), "application/json")
    report.seconds = round((datetime.now(UTC) - clock).total_seconds(), 3)
    report.appwrite_calls = counter.calls
    report.s3_calls = store.calls
    progress(f"{database_id}: backup {backup_id} done: {report.rows} rows, {report.bytes} bytes, "
             f"{report.seconds}s, {counter.calls} Appwrite calls")
    return report


def ledger_totals(ledger_rows: list[dict[str, Any]] | None, wallet_rows: list[dict[str, Any]] | None
                  ) -> dict[str, Any]:
    """Per wallet: stored balance and held, and the ledger's Σ effect (``balance == Σ effect`` when sound)."""
    if ledger_rows is None or wallet_rows is None:
        return {}
    wallets: dict[str, dict[str, int]] = {}
    for wallet in wallet_rows:
        wallets[wallet["$id"]] = {"balance": int(wallet.get("balance") or 0), "held": int(wallet.get("held") or 0),
                                  "effect": 0}
    for entry in ledger_rows:
        slot = wallets.setdefault(entry["wallet_id"], {"balance": 0, "held": 0, "effect": 0})
        slot["effect"] += EFFECT.get(entry["type"], 0) * int(entry["amount"])
    return {"entries": len(ledger_rows), "wallets": wallets}


def _audit_state(tables: TablesDB, database_id: str, exported: dict[str, list[dict[str, Any]]],
                 counter: CallCounter) -> dict[str, Any]:
    trail = "audit" if database_id != CORE_DATABASE_ID else "platform_audit"
    heads = [row for row in exported.get("audit_head", []) if row["$id"] == "head"]
    head = {"seq": int(heads[0].get("seq") or 0), "hash": heads[0].get("hash")} if heads else {"seq": 0, "hash": None}
    chain = f"{database_id}/{trail}"
    return {"chain": chain, "head": head, "checkpoint": latest_checkpoint(tables, chain, counter)}


def chain_checkpoints(tables: TablesDB, chain: str, head_seq: int, counter: CallCounter | None = None
                      ) -> list[dict[str, Any]] | None:
    """Every stored checkpoint of ``chain`` up to the backed-up head (later ones name entries this backup
    does not hold), as their JSON form; ``None`` without an ``audit_checkpoints`` table."""
    from ..audit.anchoring import stored_checkpoints
    from ..audit.writer import AuditTrail

    database_id, _, table_id = chain.partition("/")
    found: list[dict[str, Any]] = []
    try:
        for checkpoint in stored_checkpoints(tables, AuditTrail(database_id, table_id)):
            if checkpoint.seq <= head_seq:
                found.append(checkpoint.to_json())
    except AppwriteException as error:
        if error.code in (400, 404):
            return None
        raise
    if counter:
        counter.calls += 1 + len(found) // 100
    return found


def _save_checkpoints(tables: TablesDB, store: BackupStore, manifest: Manifest, counter: CallCounter
                      ) -> TableFile | None:
    rows = chain_checkpoints(tables, manifest.audit["chain"], int(manifest.audit["head"]["seq"] or 0), counter)
    if rows is None:
        return None
    blob = encode_rows(rows)
    store.put(store.key(manifest.database_id, manifest.backup_id, CHECKPOINTS_FILE), blob, "application/gzip")
    return TableFile(key=CHECKPOINTS_FILE, rows=len(rows), sha256=hashlib.sha256(blob).hexdigest(),
                     bytes=len(blob), total=len(rows))


def latest_checkpoint(tables: TablesDB, chain: str, counter: CallCounter | None = None) -> dict[str, Any] | None:
    """The newest signed checkpoint of ``chain`` in core ``audit_checkpoints``; ``None`` when the table
    does not exist (a platform without signed checkpoints) or holds none for this chain."""
    if counter:
        counter.calls += 1
    try:
        rows = tables.list_rows(CORE_DATABASE_ID, CHECKPOINTS_TABLE,
                                [Query.equal("chain", chain), Query.order_desc("seq"), Query.limit(1)],
                                total=False).rows
    except AppwriteException as error:
        if error.code in (400, 404):
            return None
        raise
    if not rows:
        return None
    data = rows[0].data
    return {"id": rows[0].id, "seq": int(data.get("seq") or 0), "hash": data.get("hash"),
            "signed_at": data.get("signed_at"), "key_id": data.get("key_id"), "signature": data.get("signature")}


def backup_tenant(tables: TablesDB, store: BackupStore, tenant_id: str, **options: Any) -> BackupReport:
    return backup_database(tables, store, tenant_database_id(tenant_id), TENANT_SCHEMA, tenant_id=tenant_id,
                           **options)


def backup_core(tables: TablesDB, store: BackupStore, **options: Any) -> BackupReport:
    return backup_database(tables, store, CORE_DATABASE_ID, CORE_BACKUP_SCHEMA, **options)
