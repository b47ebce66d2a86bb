"""Restore drill on the local stack: a tenant with a purchase, consultas, members and audit entries is
backed up to (moto) S3, its database deleted, restored, and reads back identical; tampered backups are
refused with the reason; incremental backups restore through their chain."""

from __future__ import annotations

import gzip
import json

import pytest
from appwrite.services.tables_db import TablesDB

from bigtech.documents import cpf_check_digits
from bigtech.ops.backup import MANIFEST, list_backups, load_manifest
from bigtech.ops.restore import RestoreRefused, restore_tenant
from bigtech.ops.schedule import run_backups
from tests.conftest import make_client
from tests.payments.stack_support import deliver_all
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for, unique_suffix

CPF = "529982247" + cpf_check_digits("529982247")


def consulta(actor, document=CPF):
    result = actor.call("consultas", "POST", "/", {"category": "cadastral", "document": document,
                                                   "purpose": "onboarding/KYC", "legal_basis": "protecao_credito"},
                        headers={"idempotency-key": f"c-{unique_suffix()}"}).unwrapped("consulta")
    assert result.status in (200, 201), result
    return result.body


@pytest.fixture(scope="module")
def drill(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("bk"))
    analyst = add_member(owner, "analyst")
    add_member(owner, "viewer")
    assert owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 500,
                                                     "reason": "drill"}).status == 201
    order = analyst.call("billing", "POST", "/orders", {"package_id": "pkg-50", "method": "pix"},
                         headers={"idempotency-key": f"buy-{unique_suffix()}"}).body["order"]
    paid = analyst.call("pagamento-sandbox", "POST", "/simulate-payment", {"order_id": order["id"]},
                        tenant=tenant_id)
    assert paid.status == 200, paid
    deliver_all(stack, tenant_id, order["id"])
    for _ in range(3):
        consulta(analyst)
    return {"stack": stack, "tenant": tenant_id, "owner": owner, "analyst": analyst}


def snapshot(drill) -> dict:
    owner, analyst = drill["owner"], drill["analyst"]
    verify = owner.call("audit", "GET", "/verify").body
    return {
        "wallet": analyst.call("billing", "GET", "/wallet").body,
        "ledger": owner.call("billing", "GET", "/ledger?limit=100").body,
        "orders": owner.call("billing", "GET", "/orders?limit=100").body,
        "consultas": owner.call("consultas", "GET", "/?limit=100").body,
        "audit": owner.call("audit", "GET", "/?limit=100").body,
        "verify": {k: verify[k] for k in ("ok", "checked", "first_bad_seq")},
        "members": owner.call("members", "GET", "/").body,
    }


def destroy(stack, tenant_id: str) -> None:
    TablesDB(make_client(stack)).delete(f"tenant_{tenant_id}")


@pytest.mark.slow
def test_backup_destroy_restore_reads_back_identical(drill, store):
    stack, tenant_id = drill["stack"], drill["tenant"]
    before = snapshot(drill)
    assert before["verify"]["ok"] and before["verify"]["checked"] > 0
    assert before["wallet"]["wallet"]["balance"] == 500 + 50 - 3 * before["consultas"]["items"][0]["cost_credits"]
    tables = TablesDB(make_client(stack))
    lines: list[str] = []
    report = run_backups(tables, store, tenant=tenant_id, progress=lines.append)
    assert not report.errors, report.errors
    assert any("ledger" in line for line in lines)  # progress output
    backups = list_backups(store, f"tenant_{tenant_id}")
    assert len(backups) == 1 and backups[0].endswith("-full")
    manifest = load_manifest(store, f"tenant_{tenant_id}", backups[0])
    assert manifest.tables["consultas"].rows == 3 and manifest.audit["head"]["seq"] > 0
    assert manifest.mac and len(manifest.tables["ledger"].sha256) == 64
    head = store._s3.head_object(Bucket=store.settings.bucket, Key=store.key(f"tenant_{tenant_id}", backups[0],
                                                                              MANIFEST))
    assert head.get("ServerSideEncryption") == "AES256"

    destroy(stack, tenant_id)
    assert drill["owner"].call("billing", "GET", "/ledger").body != before["ledger"]
    result = restore_tenant(tables, store, tenant_id)
    assert result.audit["verify"]["ok"]
    assert snapshot(drill) == before

    # incremental: one more consulta, backed up as a delta, restored through the chain
    consulta(drill["analyst"])
    after_more = snapshot(drill)
    run_backups(tables, store, tenant=tenant_id)
    latest = list_backups(store, f"tenant_{tenant_id}")[-1]
    incremental = load_manifest(store, f"tenant_{tenant_id}", latest)
    assert incremental.kind == "incremental" and incremental.tables["consultas"].mode == "delta"
    assert incremental.tables["consultas"].rows < 4 and incremental.tables["consultas"].total == 4
    destroy(stack, tenant_id)
    restore_tenant(tables, store, tenant_id)
    assert snapshot(drill) == after_more

    # into a new id: the database of another (new) tenant id, leaving the original alone
    copy = restore_tenant(tables, store, tenant_id, to_tenant_id=f"{tenant_id[:20]}-copy")
    assert copy.database_id == f"tenant_{tenant_id[:20]}-copy" and copy.tables["consultas"] == 4
    with pytest.raises(RestoreRefused, match="exists"):
        restore_tenant(tables, store, tenant_id)  # refusing to overwrite without confirmation


def _tamper(store, key: str, change) -> bytes:
    s3, bucket = store._s3, store.settings.bucket
    original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    s3.put_object(Bucket=bucket, Key=key, Body=change(original))
    return original


def test_tampered_files_and_manifests_are_refused_with_the_reason(drill, store):
    stack, tenant_id = drill["stack"], drill["tenant"]
    tables = TablesDB(make_client(stack))
    run_backups(tables, store, tenant=tenant_id, full=True)
    database_id = f"tenant_{tenant_id}"
    backup_id = list_backups(store, database_id)[-1]
    ledger_key = store.key(database_id, backup_id, "ledger.ndjson.gz")
    manifest_key = store.key(database_id, backup_id, MANIFEST)

    def richer(blob: bytes) -> bytes:  # one ledger entry's amount raised
        rows = [json.loads(line) for line in gzip.decompress(blob).decode().splitlines()]
        rows[0]["amount"] += 1000
        return gzip.compress("".join(json.dumps(r) + "\n" for r in rows).encode())

    original = _tamper(store, ledger_key, richer)
    with pytest.raises(RestoreRefused, match="SHA-256"):
        restore_tenant(tables, store, tenant_id, to_tenant_id=f"{tenant_id[:20]}-t1")
    # the forger also rewrites the manifest's hash and digest: the MAC (keyed off-bucket) refuses it
    forged_blob = s3_body(store, ledger_key)
    manifest = load_manifest(store, database_id, backup_id)
    import hashlib

    manifest.tables["ledger"].sha256 = hashlib.sha256(forged_blob).hexdigest()
    manifest.tables["ledger"].bytes = len(forged_blob)
    forged = manifest.sealed(None).model_copy(update={"mac": manifest.mac})
    _tamper(store, manifest_key, lambda _: forged.to_bytes())
    with pytest.raises(RestoreRefused, match="MAC"):
        restore_tenant(tables, store, tenant_id, to_tenant_id=f"{tenant_id[:20]}-t2")
    # a manifest edited by hand (a row count) fails its digest
    _tamper(store, ledger_key, lambda _: original)
    _tamper(store, manifest_key, lambda blob: blob.replace(b'"rows": 3', b'"rows": 2', 1))
    with pytest.raises(RestoreRefused, match="manifest"):
        restore_tenant(tables, store, tenant_id, to_tenant_id=f"{tenant_id[:20]}-t3")
    # nothing was written for the refused restores
    for suffix in ("t1", "t2", "t3"):
        with pytest.raises(Exception):
            tables.get(f"tenant_{tenant_id[:20]}-{suffix}")


def s3_body(store, key: str) -> bytes:
    return store._s3.get_object(Bucket=store.settings.bucket, Key=key)["Body"].read()
