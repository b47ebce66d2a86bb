"""Storing a tenant's file with read permissions for the right members, never for the public.

Who reads a file is decided here, once (``Audience``):

- ``managers``: the tenant's owners and admins (``team:<tenant>/owner``, ``team:<tenant>/admin``):
  tenant-wide statements and exports;
- ``member``: one member (``user:<id>``) plus the managers: a consulta's receipts, a member's own
  statement or export.

Because the roles are Appwrite team roles, a manager demoted or a member removed loses access at
once. Only the functions (API key) write, update or delete; no member gets more than ``read``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.permission import Permission
from appwrite.role import Role
from appwrite.services.storage import Storage

from ..permissions import ADMIN, OWNER
from .buckets import bucket_id

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
FORBIDDEN_ROLES = ("any", "guests", "users")


@dataclass(frozen=True)
class Audience:
    """Who may read a file: the tenant's managers, plus one member when ``user_id`` is set."""

    tenant_id: str
    user_id: str | None = None


@dataclass(frozen=True)
class StoredFile:
    id: str
    bucket_id: str
    name: str
    size: int
    mime_type: str

    def link(self) -> dict[str, object]:
        """What a row or an answer says about the file (frontends download it with their JWT)."""
        return {"file_id": self.id, "bucket_id": self.bucket_id, "name": self.name, "size": self.size,
                "mime_type": self.mime_type}


def file_permissions(audience: Audience) -> list[str]:
    permissions = [Permission.read(Role.team(audience.tenant_id, role)) for role in (OWNER, ADMIN)]
    if audience.user_id and not audience.user_id.startswith("apikey:"):
        permissions.append(Permission.read(Role.user(audience.user_id)))
    for permission in permissions:  # the one rule that must never break: nothing public
        role = permission.split('"')[1]
        if role in FORBIDDEN_ROLES or role.startswith("users/"):
            raise ValueError(f"refusing a public file permission: {permission}")
    return permissions


def safe_name(name: str) -> str:
    cleaned = _SAFE_NAME.sub("-", name).strip("-.") or "file"
    return cleaned[-120:]


def store_file(storage: Storage, audience: Audience, name: str, data: bytes, file_id: str | None = None) -> StoredFile:
    """Upload ``data`` into the tenant's bucket (one call; the SDK chunks above 5 MB: one call per 5 MB)."""
    created = storage.create_file(bucket_id(audience.tenant_id), file_id or ID.unique(),
                                  InputFile.from_bytes(data, safe_name(name)), permissions=file_permissions(audience))
    return StoredFile(created.id, created.bucketid, created.name, int(created.sizeoriginal), created.mimetype)


def download(storage: Storage, tenant_id: str, file_id: str) -> bytes:
    return storage.get_file_download(bucket_id(tenant_id), file_id)


def delete_file(storage: Storage, tenant_id: str, file_id: str) -> bool:
    """Delete one file; False when it was already gone (a rerun deletes nothing twice)."""
    try:
        storage.delete_file(bucket_id(tenant_id), file_id)
    except AppwriteException as error:
        if error.code == 404:
            return False
        raise
    return True
