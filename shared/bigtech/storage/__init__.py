"""Files in Appwrite Storage, one private bucket per tenant (docs/storage.md).

``buckets``: the tenant's bucket (``tenant-<id>``), created at provisioning and by ``invoke migrate``;
``files``: storing a file with role-aware read permissions, reading and deleting it;
``receipts``: fetching a fonte's source receipts through the outbound guard into the bucket.
"""

from .buckets import BUCKET_SPEC, bucket_id, ensure_bucket
from .files import Audience, StoredFile, delete_file, download, file_permissions, store_file

__all__ = ["BUCKET_SPEC", "Audience", "StoredFile", "bucket_id", "delete_file", "download", "ensure_bucket",
           "file_permissions", "store_file"]
