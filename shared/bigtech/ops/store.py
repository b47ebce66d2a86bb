"""Where backups live: an S3 bucket (AWS, or any S3-compatible store), through ``boto3``.

Configured from the environment only: ``BIGTECH_BACKUP_BUCKET`` (required), ``BIGTECH_BACKUP_PREFIX``
(default ``bigtech-backups``), ``BIGTECH_S3_ENDPOINT_URL`` (empty for AWS; MinIO, Ceph, R2… otherwise) and
the standard ``AWS_*`` credentials and region, which boto3 reads itself. Every object is written with
server-side encryption requested (``AES256``, or ``aws:kms`` when ``BIGTECH_BACKUP_KMS_KEY_ID`` names a
key): an S3-compatible store that ignores the header still stores the object.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_PREFIX = "bigtech-backups"


class BackupStoreMissing(RuntimeError):
    """``BIGTECH_BACKUP_BUCKET`` is not set: there is nowhere to write a backup."""


@dataclass(frozen=True)
class StoreSettings:
    bucket: str
    prefix: str = DEFAULT_PREFIX
    endpoint_url: str | None = None
    kms_key_id: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        env = os.environ if environ is None else environ
        bucket = (env.get("BIGTECH_BACKUP_BUCKET") or "").strip()
        if not bucket:
            raise BackupStoreMissing("BIGTECH_BACKUP_BUCKET is not set; backups need an S3 bucket.")
        return cls(
            bucket=bucket,
            prefix=(env.get("BIGTECH_BACKUP_PREFIX") or DEFAULT_PREFIX).strip("/"),
            endpoint_url=(env.get("BIGTECH_S3_ENDPOINT_URL") or "").strip() or None,
            kms_key_id=(env.get("BIGTECH_BACKUP_KMS_KEY_ID") or "").strip() or None,
        )


class BackupStore:
    """Objects under ``<prefix>/`` of one bucket; counts the S3 calls it makes (the benchmark reads them)."""

    def __init__(self, settings: StoreSettings, client: Any = None) -> None:
        self.settings = settings
        if client is None:
            import boto3  # imported here: only the ops paths need it

            client = boto3.client("s3", endpoint_url=settings.endpoint_url)
        self._s3 = client
        self.calls = 0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BackupStore:
        return cls(StoreSettings.from_env(environ))

    def key(self, *parts: str) -> str:
        return "/".join([self.settings.prefix, *parts])

    def _encryption(self) -> dict[str, str]:
        if self.settings.kms_key_id:
            return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.settings.kms_key_id}
        return {"ServerSideEncryption": "AES256"}

    def put(self, key: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.calls += 1
        self._s3.put_object(Bucket=self.settings.bucket, Key=key, Body=body, ContentType=content_type,
                            **self._encryption())

    def get(self, key: str) -> bytes:
        self.calls += 1
        return self._s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read()

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        self.calls += 1
        try:
            self._s3.head_object(Bucket=self.settings.bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def head(self, key: str) -> dict[str, Any]:
        self.calls += 1
        return self._s3.head_object(Bucket=self.settings.bucket, Key=key)

    def list_folders(self, key_prefix: str) -> list[str]:
        """The immediate sub-folders of ``key_prefix/`` (names only), sorted."""
        names: list[str] = []
        token: str | None = None
        while True:
            self.calls += 1
            extra = {"ContinuationToken": token} if token else {}
            page = self._s3.list_objects_v2(Bucket=self.settings.bucket, Prefix=key_prefix.rstrip("/") + "/",
                                            Delimiter="/", **extra)
            names += [p["Prefix"].rstrip("/").rsplit("/", 1)[-1] for p in page.get("CommonPrefixes", [])]
            if not page.get("IsTruncated"):
                return sorted(names)
            token = page.get("NextContinuationToken")

    def list_keys(self, key_prefix: str) -> Iterator[str]:
        token: str | None = None
        while True:
            self.calls += 1
            extra = {"ContinuationToken": token} if token else {}
            page = self._s3.list_objects_v2(Bucket=self.settings.bucket, Prefix=key_prefix, **extra)
            yield from (item["Key"] for item in page.get("Contents", []))
            if not page.get("IsTruncated"):
                return
            token = page.get("NextContinuationToken")

    def delete(self, key: str) -> None:
        self.calls += 1
        self._s3.delete_object(Bucket=self.settings.bucket, Key=key)

    def delete_folder(self, key_prefix: str) -> int:
        """Delete every object under ``key_prefix/``; returns how many."""
        keys = list(self.list_keys(key_prefix.rstrip("/") + "/"))
        for start in range(0, len(keys), 1000):
            self.calls += 1
            chunk = [{"Key": key} for key in keys[start:start + 1000]]
            self._s3.delete_objects(Bucket=self.settings.bucket, Delete={"Objects": chunk, "Quiet": True})
        return len(keys)
