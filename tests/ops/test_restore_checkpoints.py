"""Restore holds a backed-up audit chain against its Ed25519-signed checkpoints (saved with the backup):
they verify with the deployment's keys (and a rotated key listed in BIGTECH_AUDIT_PUBLIC_KEYS); a history
rewritten consistently — every hash, the head and the manifest recomputed and re-sealed by someone holding
BIGTECH_SECRETS_KEY but not the signing key — or a forged checkpoint is refused with the reason."""

from __future__ import annotations

import hashlib
import json

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from bigtech.audit.chain import AuditEntry
from bigtech.audit.checkpoints import Checkpoint
from bigtech.audit.signing import PublicKeys, load_signer, new_seed
from bigtech.ops.backup import CHECKPOINTS_FILE, MANIFEST, backup_tenant, decode_rows, encode_rows, load_manifest
from bigtech.ops.manifest import mac_key
from bigtech.ops.restore import RestoreRefused, restore_tenant
from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for


@pytest.fixture(scope="module")
def signed_tenant(stack):
    admin = platform_admin(stack)
    tenant_id, owner = create_tenant(stack, admin, tenant_id_for("ck"))
    for role in ("analyst", "viewer", "admin"):
        add_member(owner, role)
    assert owner.call("audit", "GET", "/verify").body["ok"]
    return tenant_id


@pytest.fixture
def backed_up(signed_tenant, stack, store):
    report = backup_tenant(TablesDB(make_client(stack)), store, signed_tenant, full=True)
    return report.database_id, load_manifest(store, report.database_id, report.backup_id)


def rewrite(store, manifest, key: str, change) -> None:
    """What an attacker who can write the bucket and holds BIGTECH_SECRETS_KEY (not the signing key) does:
    change a file and re-seal the manifest over it."""
    path = store.key(manifest.database_id, manifest.backup_id, key)
    rows = change(decode_rows(store.get(path)), manifest)
    blob = encode_rows(rows)
    store.put(path, blob)
    entry = manifest.checkpoints if key == CHECKPOINTS_FILE else manifest.tables[key.split(".")[0]]
    entry.sha256, entry.rows, entry.bytes = hashlib.sha256(blob).hexdigest(), len(rows), len(blob)
    store.put(store.key(manifest.database_id, manifest.backup_id, MANIFEST), manifest.sealed(mac_key()).to_bytes())


def refused(stack, store, tenant_id) -> str:
    with pytest.raises(RestoreRefused) as caught:
        restore_tenant(TablesDB(make_client(stack)), store, tenant_id, to_tenant_id=tenant_id_for("never"))
    return caught.value.reason


def test_restore_verifies_the_backups_signed_checkpoints(backed_up, signed_tenant, stack, store):
    _, manifest = backed_up
    assert manifest.checkpoints is not None and manifest.checkpoints.rows >= 1
    report = restore_tenant(TablesDB(make_client(stack)), store, signed_tenant, dry_run=True)
    assert report.dry_run and report.audit["signatures"] == "verified"
    assert report.audit["anchored_seq"] == report.audit["head_seq"] > 0 and "warning" not in report.audit
    assert report.current["audit"] == report.tables["audit"]  # the live database, untouched


def test_a_consistently_rewritten_history_is_refused(backed_up, signed_tenant, stack, store):
    _, manifest = backed_up

    def forge(rows, manifest):
        rows.sort(key=lambda row: row.get("seq") or 0)
        previous = None
        for row in rows:
            if row.get("seq") == 2:
                row["details"] = json.dumps({"role": "owner", "forged": True})
            if previous is not None and row.get("seq"):
                row["prev_hash"] = previous
            if row.get("seq"):
                row["hash"] = AuditEntry.from_row(row).compute_hash()
                previous = row["hash"]
        manifest.audit["head"]["hash"] = previous
        if manifest.audit.get("checkpoint"):
            by_seq = {row["seq"]: row["hash"] for row in rows if row.get("seq")}
            manifest.audit["checkpoint"]["hash"] = by_seq[manifest.audit["checkpoint"]["seq"]]
        return rows

    rewrite(store, manifest, "audit.ndjson.gz", forge)

    def move_head(rows, manifest):
        for row in rows:
            row["hash"] = manifest.audit["head"]["hash"]
        return rows

    rewrite(store, manifest, "audit_head.ndjson.gz", move_head)
    reason = refused(stack, store, signed_tenant)
    assert reason.startswith("audit checkpoints: rewritten at seq 2"), reason


def test_a_forged_checkpoint_is_refused(backed_up, signed_tenant, stack, store):
    _, manifest = backed_up
    impostor = load_signer({"BIGTECH_AUDIT_SIGNING_KEY": new_seed()})

    def forge(rows, _manifest):
        rows[-1] = Checkpoint.from_json(rows[-1]).signed_by(impostor).to_json()
        return rows

    rewrite(store, manifest, CHECKPOINTS_FILE, forge)
    assert refused(stack, store, signed_tenant).startswith("audit checkpoints: bad_checkpoint")


def test_after_a_key_rotation_the_old_key_listed_still_verifies(backed_up, signed_tenant, stack, store, monkeypatch):
    old_public = load_signer().public_key_b64
    monkeypatch.setenv("BIGTECH_AUDIT_SIGNING_KEY", new_seed())  # rotated: the backup's checkpoints are the old key's
    assert refused(stack, store, signed_tenant).startswith("audit checkpoints: bad_checkpoint")
    monkeypatch.setenv("BIGTECH_AUDIT_PUBLIC_KEYS", old_public)
    report = restore_tenant(TablesDB(make_client(stack)), store, signed_tenant, dry_run=True)
    assert report.audit["signatures"] == "verified"


def test_without_a_public_key_the_restore_says_the_signatures_were_not_checked(backed_up, signed_tenant, stack,
                                                                                store, monkeypatch):
    # a deployment with neither key (an unset variable would fall back to the developer's .env here)
    monkeypatch.setattr("bigtech.ops.restore.load_public_keys", lambda: PublicKeys.of([]))
    report = restore_tenant(TablesDB(make_client(stack)), store, signed_tenant, dry_run=True)
    assert report.audit["signatures"] == "not_checked" and "no audit public key" in report.audit["warning"]


def test_a_dry_run_writes_nothing(backed_up, signed_tenant, stack, store):
    copy = tenant_id_for("dry")
    report = restore_tenant(TablesDB(make_client(stack)), store, signed_tenant, to_tenant_id=copy, dry_run=True)
    assert report.rows > 0 and report.current == {}
    with pytest.raises(AppwriteException) as missing:
        TablesDB(make_client(stack)).get(f"tenant_{copy}")
    assert missing.value.code == 404
