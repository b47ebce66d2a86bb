"""Buckets and files: documents in SQLite (``aw_buckets``, ``aw_files``), bytes on disk.

A complete file lives at ``<root>/<bucket>/<file id>``, as Appwrite's local device keeps it, after
compression (gzip; ``zstd`` is stored uncompressed, see docs/local-appwrite.md) and encryption
(AES-128-GCM under a key kept in the data directory, like ``_APP_OPENSSL_KEY_V1``), both skipped
above 20 MB as in Appwrite. A chunked upload keeps its parts in ``<root>/<bucket>/<file id>.parts/``
until the last one arrives. The storage internals (path, algorithm, IV, tag) stay in the ``meta``
column and never reach a response.
"""

from __future__ import annotations

import gzip
import os
import secrets
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..common import dumps, loads
from ..storage import Storage

DDL = """
CREATE TABLE IF NOT EXISTS aw_buckets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS aw_files (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket_id TEXT NOT NULL REFERENCES aw_buckets(id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    doc TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    UNIQUE (bucket_id, id)
);
"""
READ_BUFFER = 20 * 1000 * 1000  # APP_STORAGE_READ_BUFFER: no compression or encryption above it


class FileStore:
    def __init__(self, storage: Storage, root: Path) -> None:
        self.storage = storage
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        storage.migrate(DDL)
        key_file = root / "files.key"
        if not key_file.exists():
            key_file.write_bytes(secrets.token_bytes(16))
        self._key = key_file.read_bytes()

    # -- documents ---------------------------------------------------------------------------------

    def bucket(self, conn: sqlite3.Connection, bucket_id: str) -> dict | None:
        row = conn.execute("SELECT doc FROM aw_buckets WHERE id = ?", (bucket_id,)).fetchone()
        return loads(row["doc"]) if row else None

    def buckets(self, conn: sqlite3.Connection) -> list[dict]:
        return [loads(r["doc"]) for r in conn.execute("SELECT doc FROM aw_buckets ORDER BY seq")]

    def file(self, conn: sqlite3.Connection, bucket_id: str, file_id: str) -> tuple[dict, dict] | None:
        row = conn.execute("SELECT doc, meta FROM aw_files WHERE bucket_id = ? AND id = ?",
                           (bucket_id, file_id)).fetchone()
        return (loads(row["doc"]), loads(row["meta"], {})) if row else None

    def files(self, conn: sqlite3.Connection, bucket_id: str) -> list[dict]:
        rows = conn.execute("SELECT doc FROM aw_files WHERE bucket_id = ? ORDER BY seq", (bucket_id,))
        return [loads(r["doc"]) for r in rows]

    def total_size(self, conn: sqlite3.Connection, bucket_id: str) -> int:
        return sum(int(doc.get("sizeActual") or 0) for doc in self.files(conn, bucket_id))

    def put_file(self, conn: sqlite3.Connection, doc: dict, meta: dict) -> None:
        conn.execute(
            "INSERT INTO aw_files (bucket_id, id, doc, meta) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (bucket_id, id) DO UPDATE SET doc = excluded.doc, meta = excluded.meta",
            (doc["bucketId"], doc["$id"], dumps(doc), dumps(meta)),
        )

    # -- bytes -------------------------------------------------------------------------------------

    def path(self, bucket_id: str, file_id: str) -> Path:
        return self.root / bucket_id / file_id

    def parts_dir(self, bucket_id: str, file_id: str) -> Path:
        return self.root / bucket_id / f"{file_id}.parts"

    def write_part(self, bucket_id: str, file_id: str, index: int, data: bytes) -> int:
        """Store chunk ``index`` (1-based); the number of distinct chunks now on disk."""
        folder = self.parts_dir(bucket_id, file_id)
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f"{index}.tmp{secrets.token_hex(4)}"
        temp.write_bytes(data)
        os.replace(temp, folder / str(index))
        return sum(1 for p in folder.iterdir() if p.name.isdigit())

    def assemble(self, bucket_id: str, file_id: str, chunks: int) -> bytes:
        folder = self.parts_dir(bucket_id, file_id)
        data = b"".join((folder / str(i)).read_bytes() for i in range(1, chunks + 1))
        shutil.rmtree(folder, ignore_errors=True)
        return data

    def save(self, bucket: dict, file_id: str, data: bytes) -> dict:
        """Write the complete file (compressed/encrypted as the bucket says); the storage ``meta``."""
        meta: dict[str, Any] = {"algorithm": "none"}
        stored = data
        if len(data) <= READ_BUFFER:
            if bucket.get("compression") == "gzip":
                stored, meta["algorithm"] = gzip.compress(stored, mtime=0), "gzip"
            if bucket.get("encryption"):
                iv = secrets.token_bytes(12)
                sealed = AESGCM(self._key).encrypt(iv, stored, None)
                stored = sealed[:-16]
                meta.update(cipher="aes-128-gcm", iv=iv.hex(), tag=sealed[-16:].hex())
        target = self.path(bucket["$id"], file_id)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(target.name + ".tmp" + secrets.token_hex(4))
        temp.write_bytes(stored)
        os.replace(temp, target)
        meta["size_actual"] = len(stored)
        return meta

    def read(self, bucket_id: str, file_id: str, meta: dict) -> bytes | None:
        target = self.path(bucket_id, file_id)
        if not target.exists():
            return None
        data = target.read_bytes()
        if meta.get("cipher"):
            data = AESGCM(self._key).decrypt(bytes.fromhex(meta["iv"]), data + bytes.fromhex(meta["tag"]), None)
        if meta.get("algorithm") == "gzip":
            data = gzip.decompress(data)
        return data

    def remove(self, bucket_id: str, file_id: str) -> None:
        self.path(bucket_id, file_id).unlink(missing_ok=True)
        shutil.rmtree(self.parts_dir(bucket_id, file_id), ignore_errors=True)

    def remove_bucket(self, bucket_id: str) -> None:
        shutil.rmtree(self.root / bucket_id, ignore_errors=True)
