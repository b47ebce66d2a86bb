"""The tenant's bucket: ``tenant-<id>``, private, file-level security, limits, encryption, antivirus.

Why one bucket per tenant rather than one shared bucket (docs/storage.md): the bucket is the unit
Appwrite applies limits, encryption and antivirus to, lists and deletes; a tenant's files can be
listed, backed up, restored and removed as a whole without a query over everyone's files, and a
mistake in one file's permissions can never expose another tenant's file through a bucket-level
grant, because the bucket grants nothing to anyone: ``permissions=[]`` and ``fileSecurity=True``, so
only each file's own ``read("team:<tenant>/<role>")``/``read("user:<id>")`` lets a member in, and
``any``/``guests``/``users`` are never written (``files.file_permissions`` refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appwrite.enums.compression import Compression
from appwrite.exception import AppwriteException
from appwrite.services.storage import Storage

BUCKET_PREFIX = "tenant-"


@dataclass(frozen=True)
class BucketSpec:
    maximum_file_size: int = 25 * 1000 * 1000  # below Appwrite's default _APP_STORAGE_LIMIT (30 MB)
    allowed_file_extensions: tuple[str, ...] = ("pdf", "csv", "html", "htm", "png", "jpg", "jpeg", "json", "txt")
    compression: Compression = Compression.GZIP
    encryption: bool = True
    antivirus: bool = True


BUCKET_SPEC = BucketSpec()


def bucket_id(tenant_id: str) -> str:
    """``tenant-<id>``: at most 36 characters (tenant ids have at most 29)."""
    return BUCKET_PREFIX + tenant_id


def ensure_bucket(storage: Storage, tenant_id: str, name: str | None = None, spec: BucketSpec = BUCKET_SPEC) -> str:
    """Create the tenant's bucket, or bring an existing one back to ``spec`` (idempotent: 1 call, 2 on a rerun)."""
    settings: dict[str, Any] = dict(
        name=f"Tenant {name or tenant_id}", permissions=[], file_security=True, enabled=True,
        maximum_file_size=spec.maximum_file_size, allowed_file_extensions=list(spec.allowed_file_extensions),
        compression=spec.compression, encryption=spec.encryption, antivirus=spec.antivirus, transformations=False,
    )
    try:
        storage.create_bucket(bucket_id(tenant_id), **settings)
    except AppwriteException as error:
        if error.code != 409:
            raise
        storage.update_bucket(bucket_id(tenant_id), **settings)
    return bucket_id(tenant_id)
