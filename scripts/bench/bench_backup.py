"""Backup and restore of a tenant with 10,000 consultas to (moto) S3: time, Appwrite calls, S3 calls, bytes.

Seeds a private stack's tenant database directly (bulk creates: the consultas function would spend
minutes per thousand on the sandbox fonte), then measures a full backup, an incremental backup after
100 more consultas, and a restore of the chain into the deleted database (with every check).
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

CONSULTAS = 10_000
MORE = 100
BUCKET = "bench-backups"


def _consulta(index: int, user_id: str) -> dict:
    return {"$id": f"c{index:08d}", "user_id": user_id, "category": "cadastral", "status": "succeeded",
            "input_masked": "***.456.789-**", "document_hash": f"{index:064x}", "purpose": "onboarding/KYC",
            "legal_basis": "protecao_credito", "cost": 1, "plugin_id": "consulta-cadastral",
            "result": '{"nome": "Fulano de Tal", "situacao": "REGULAR", "nascimento": "1990-01-01"}',
            "sources": '[{"plugin": "fonte-sandbox", "status": "ok"}]',
            "completed_at": datetime.now(UTC).isoformat(timespec="milliseconds")}


def run(report) -> None:
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
    import boto3
    from appwrite.services.tables_db import TablesDB
    from moto import mock_aws

    from bench.support import client_for, private_stack
    from bigtech.ops.backup import backup_core, backup_tenant
    from bigtech.ops.restore import restore_core, restore_tenant
    from bigtech.ops.store import BackupStore, StoreSettings
    from bigtech.ops.tables_io import write_rows
    from bigtech.schema import provision_core, provision_tenant

    with private_stack() as stack, mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        tables = TablesDB(client_for(stack))
        provision_core(tables)
        tenant = "bench-backup"
        provision_tenant(tables, tenant)
        database = f"tenant_{tenant}"
        user = "benchuser0000000001"
        tables.create_row(database, "wallets", user, {"user_id": user, "balance": 50_000})
        tables.create_row(database, "ledger", "lgrant", {"wallet_id": user, "type": "grant", "amount": 50_000,
                                                         "idempotency_key": "grant:bench"})
        started = time.perf_counter()
        write_rows(tables, database, "consultas", [_consulta(i, user) for i in range(CONSULTAS)])
        report.metric("seed 10,000 consultas (bulk)", time.perf_counter() - started, "s")

        store = BackupStore(StoreSettings(bucket=BUCKET, prefix="bench"), client=s3)
        full = backup_tenant(tables, store, tenant, full=True)
        report.metric("full backup", full.seconds, "s")
        report.metric("full backup Appwrite calls", full.appwrite_calls, "calls")
        report.metric("full backup S3 calls", full.s3_calls, "calls")
        report.metric("full backup size (gzip NDJSON)", full.bytes / 1024, "KiB")

        write_rows(tables, database, "consultas", [_consulta(CONSULTAS + i, user) for i in range(MORE)])
        time.sleep(1.1)  # backup ids have one-second resolution
        store.calls = 0
        incremental = backup_tenant(tables, store, tenant)
        report.metric("incremental backup (+100 consultas)", incremental.seconds, "s")
        report.metric("incremental backup Appwrite calls", incremental.appwrite_calls, "calls")
        report.metric("incremental backup size", incremental.bytes / 1024, "KiB")

        store.calls = 0
        dry = restore_tenant(tables, store, tenant, dry_run=True)
        report.metric("restore dry run (every check, nothing written)", dry.seconds, "s")
        report.metric("restore dry run Appwrite calls", dry.appwrite_calls, "calls")

        tables.delete(database)
        store.calls = 0
        restored = restore_tenant(tables, store, tenant)
        assert restored.tables["consultas"] == CONSULTAS + MORE
        report.metric("restore (chain of 2, all checks)", restored.seconds, "s")
        report.metric("restore Appwrite calls", restored.appwrite_calls, "calls")
        report.metric("restore S3 calls", restored.s3_calls, "calls")

        backup_core(tables, store, full=True)
        store.calls = 0
        core = restore_core(tables, store, to_database_id="core_bench")
        report.metric("core restore into a new id (all checks)", core.seconds, "s")
        report.metric("core restore Appwrite calls", core.appwrite_calls, "calls")
