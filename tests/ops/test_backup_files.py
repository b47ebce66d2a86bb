"""Backups include the tenant's Storage files: copied once, named in every manifest, verified and restored."""

from __future__ import annotations

import pytest
from appwrite.services.storage import Storage
from appwrite.services.tables_db import TablesDB

from bigtech.ops.backup import list_backups, load_manifest
from bigtech.ops.restore import RestoreRefused, restore_tenant
from bigtech.ops.schedule import run_backups
from bigtech.storage import Audience, bucket_id, store_file
from tests.conftest import make_client
from tests.support.actors import create_tenant, platform_admin, tenant_id_for


def test_files_are_backed_up_once_verified_and_restored_with_their_permissions(stack, store):
    tenant_id, owner = create_tenant(stack, platform_admin(stack), tenant_id_for("bf"))
    storage, tables = Storage(make_client(stack)), TablesDB(make_client(stack))
    receipt = store_file(storage, Audience(tenant_id, owner.user_id), "receipt.pdf", b"%PDF-1.4 proof")
    export = store_file(storage, Audience(tenant_id), "export.csv", b"id;cost\r\nc1;5\r\n")

    lines: list[str] = []
    assert not run_backups(tables, store, tenant=tenant_id, progress=lines.append).errors
    assert any("2 files (2 copied now)" in line for line in lines)
    database = f"tenant_{tenant_id}"
    manifest = load_manifest(store, database, list_backups(store, database)[-1])
    assert set(manifest.files) == {receipt.id, export.id}
    assert manifest.files[receipt.id]["permissions"] == storage.get_file(bucket_id(tenant_id), receipt.id).permissions
    lines.clear()
    run_backups(tables, store, tenant=tenant_id, full=True, progress=lines.append)
    assert any("2 files (0 copied now)" in line for line in lines)  # unchanged files are not copied again

    for file in (receipt, export):
        storage.delete_file(bucket_id(tenant_id), file.id)
    report = restore_tenant(tables, store, tenant_id, replace=True)
    assert report.files == 2
    assert storage.get_file_download(bucket_id(tenant_id), receipt.id) == b"%PDF-1.4 proof"
    assert storage.get_file(bucket_id(tenant_id), receipt.id).permissions == \
        manifest.files[receipt.id]["permissions"]

    copy_id = f"{tenant_id[:20]}-fc"
    restore_tenant(tables, store, tenant_id, to_tenant_id=copy_id)
    copied = storage.get_file(bucket_id(copy_id), export.id)
    assert copied.permissions == [f'read("team:{copy_id}/owner")', f'read("team:{copy_id}/admin")']

    key = manifest.files[export.id]["key"]
    store.put(key, b"id;cost\r\nc1;0\r\n")  # an object changed in the bucket: its MD5 no longer matches
    with pytest.raises(RestoreRefused, match=f"file {export.id}"):
        restore_tenant(tables, store, tenant_id, to_tenant_id=f"{tenant_id[:20]}-fx")
