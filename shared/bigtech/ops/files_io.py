"""A tenant's files (its Appwrite Storage bucket) in backups: saved by content, verified, restored.

Files never change once stored (Appwrite has no content update), so each is saved once under
``<prefix>/files/<bucket>/<file id>-<md5>`` and every later backup only lists the bucket (one call per
100 files) and names it in its manifest (``Manifest.files``: id → key, name, size, md5, permissions).
A restore checks every object's MD5 and size against the manifest before anything is written, then
re-creates the missing files with their ids and permissions (a copy restored ``--to`` another tenant
has ``team:<old>`` rewritten to ``team:<new>``). File objects no kept manifest names are pruned by
the backup rotation (``prune_files``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.input_file import InputFile
from appwrite.query import Query
from appwrite.services.storage import Storage

from ..storage import bucket_id, ensure_bucket
from .store import BackupStore
from .tables_io import CallCounter

PAGE = 100
Progress = Callable[[str], None]


def list_files(storage: Storage, tenant_id: str, counter: CallCounter) -> list[Any]:
    files: list[Any] = []
    cursor: str | None = None
    while True:
        queries = [Query.limit(PAGE), *([Query.cursor_after(cursor)] if cursor else [])]
        counter.calls += 1
        try:
            page = storage.list_files(bucket_id(tenant_id), queries, total=False).files
        except AppwriteException as error:
            if error.code == 404:  # a tenant provisioned before Storage: no bucket, no files
                return []
            raise
        files += page
        if len(page) < PAGE:
            return files
        cursor = page[-1].id


def backup_files(storage: Storage, store: BackupStore, tenant_id: str, counter: CallCounter,
                 progress: Progress) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    copied = 0
    for file in list_files(storage, tenant_id, counter):
        if file.chunksuploaded != file.chunkstotal:
            continue  # an upload still under way is not a file yet
        key = store.key("files", bucket_id(tenant_id), f"{file.id}-{file.signature}")
        if not store.exists(key):
            counter.calls += 1
            data = storage.get_file_download(bucket_id(tenant_id), file.id)
            store.put(key, data, file.mimetype or "application/octet-stream")
            copied += 1
        entries[file.id] = {"key": key, "name": file.name, "size": int(file.sizeoriginal), "md5": file.signature,
                            "permissions": list(file.permissions)}
    progress(f"{bucket_id(tenant_id)}: {len(entries)} files ({copied} copied now)")
    return entries


def load_files(store: BackupStore, entries: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """Every file's bytes, each checked against its manifest entry; raises ValueError naming the first bad one."""
    loaded: dict[str, bytes] = {}
    for file_id, entry in entries.items():
        data = store.get(entry["key"])
        if len(data) != entry["size"] or hashlib.md5(data).hexdigest() != entry["md5"]:  # noqa: S324 - Appwrite's
            raise ValueError(f"file {file_id}: size or MD5 differs from the manifest")
        loaded[file_id] = data
    return loaded


def restore_files(storage: Storage, tenant_id: str, source_tenant: str, entries: dict[str, dict[str, Any]],
                  contents: dict[str, bytes], counter: CallCounter) -> int:
    counter.calls += 1
    ensure_bucket(storage, tenant_id)
    restored = 0
    for file_id, entry in entries.items():
        permissions = [p.replace(f'"team:{source_tenant}/', f'"team:{tenant_id}/')
                       .replace(f'"team:{source_tenant}"', f'"team:{tenant_id}"') for p in entry["permissions"]]
        counter.calls += 1
        try:
            storage.create_file(bucket_id(tenant_id), file_id, InputFile.from_bytes(contents[file_id], entry["name"]),
                                permissions=permissions)
        except AppwriteException as error:
            if error.code != 409:  # already there (a replace keeps the bucket): the same id, the same bytes
                raise
            continue
        restored += 1
    return restored


def referenced_keys(manifests: Iterable[Any]) -> set[str]:
    return {entry["key"] for manifest in manifests for entry in (manifest.files or {}).values()}


def prune_files(store: BackupStore, tenant_id: str, keep: set[str]) -> int:
    """Delete the file objects of ``tenant_id`` that no kept manifest names."""
    prefix = store.key("files", bucket_id(tenant_id)) + "/"
    stale = [key for key in store.list_keys(prefix) if key not in keep]
    for key in stale:
        store.delete(key)
    return len(stale)
