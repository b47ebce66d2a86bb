"""The Storage routes: buckets (API keys, ``buckets.*`` scopes) and files (keys, users and guests).

Every file route follows the same steps as Appwrite's ``Files/*.php``: a missing bucket, or a
disabled one for a non-key caller, is 404 ``storage_bucket_not_found``; then the bucket's permission
for the action (or, with ``fileSecurity``, the file's) decides, see ``access.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..common import as_bool, dumps, now_iso, resolve_id
from ..errors import AppwriteError
from ..http import Request, Response, Router
from ..users.query import Schema, run_list
from .access import BUCKET_ACTIONS, FILE_ACTIONS, Access, parse_permissions, unauthorized
from .uploads import create_file

if TYPE_CHECKING:
    from ..app import LocalAppwrite
    from .store import FileStore

STORAGE_LIMIT = 30_000_000  # _APP_STORAGE_LIMIT's default: the largest maximumFileSize
COMPRESSIONS = ("none", "gzip", "zstd")
BUCKET_SCHEMA = Schema(frozenset({"enabled", "name", "fileSecurity", "maximumFileSize", "encryption", "antivirus",
                                  "transformations"}))
FILE_SCHEMA = Schema(frozenset({"name", "folder", "signature", "mimeType", "sizeOriginal", "chunksTotal",
                                "chunksUploaded"}))
_PUBLIC_BUCKET = ("$id", "$createdAt", "$updatedAt", "$permissions", "fileSecurity", "name", "description", "enabled",
                  "maximumFileSize", "allowedFileExtensions", "compression", "encryption", "antivirus",
                  "transformations", "stripMetadata")


def bucket_not_found() -> AppwriteError:
    return AppwriteError(404, "storage_bucket_not_found", "Storage bucket with the requested ID could not be found.")


def file_not_found() -> AppwriteError:
    return AppwriteError(404, "storage_file_not_found", "The requested file could not be found.")


def public_file(doc: dict) -> dict:
    return dict(doc)


def bucket_for(stack: LocalAppwrite, access: Access, bucket_id: str) -> dict:
    store: FileStore = stack.files  # type: ignore[attr-defined]
    with store.storage.read() as conn:
        bucket = store.bucket(conn, bucket_id)
    if bucket is None or (not bucket.get("enabled", True) and not access.is_key):
        raise bucket_not_found()
    return bucket


def _store(stack: LocalAppwrite) -> FileStore:
    return stack.files  # type: ignore[attr-defined]


def register(stack: LocalAppwrite, router: Router) -> None:
    def public_bucket(doc: dict) -> dict:
        with _store(stack).storage.read() as conn:
            total = _store(stack).total_size(conn, doc["$id"])
        return {**{k: doc[k] for k in _PUBLIC_BUCKET}, "totalSize": total}

    def bucket_fields(request: Request, current: dict | None) -> dict:
        base = current or {}
        name = request.require("name")
        if not isinstance(name, str) or len(name) > 128:
            raise AppwriteError(400, "general_argument_invalid", "Invalid `name` param: Value must be a valid string "
                                "and at least 1 chars and no longer than 128 chars")
        size = request.param("maximumFileSize", base.get("maximumFileSize", STORAGE_LIMIT))
        if isinstance(size, bool) or not isinstance(size, int | float) or not 1 <= int(size) <= STORAGE_LIMIT:
            raise AppwriteError(400, "general_argument_invalid",
                                f"Invalid `maximumFileSize` param: Value must be a valid range between 1 and "
                                f"{STORAGE_LIMIT:,}")
        extensions = request.param("allowedFileExtensions", base.get("allowedFileExtensions", []))
        if not isinstance(extensions, list) or len(extensions) > 100 or \
                any(not isinstance(e, str) or len(e) > 64 for e in extensions):
            raise AppwriteError(400, "general_argument_invalid", "Invalid `allowedFileExtensions` param: Value must "
                                "be a valid array no longer than 100 items and Value must be a valid string and no "
                                "longer than 64 chars")
        compression = request.param("compression", base.get("compression", "none"))
        if compression not in COMPRESSIONS:
            raise AppwriteError(400, "general_argument_invalid",
                                "Invalid `compression` param: Value must be one of (none, gzip, zstd)")
        permissions = parse_permissions(request.param("permissions"), BUCKET_ACTIONS)
        return {
            "name": name,
            "$permissions": permissions if permissions is not None else base.get("$permissions", []),
            "fileSecurity": as_bool(request.param("fileSecurity"), base.get("fileSecurity", False)),
            "enabled": as_bool(request.param("enabled"), base.get("enabled", True)),
            "maximumFileSize": int(size), "allowedFileExtensions": extensions, "compression": compression,
            "encryption": as_bool(request.param("encryption"), base.get("encryption", True)),
            "antivirus": as_bool(request.param("antivirus"), base.get("antivirus", True)),
            "transformations": as_bool(request.param("transformations"), base.get("transformations", True)),
            "description": str(request.param("description", base.get("description", "")) or ""),
            "stripMetadata": as_bool(request.param("stripMetadata"), base.get("stripMetadata", False)),
        }

    def create_bucket(request: Request) -> Response:
        bucket_id = resolve_id(request.require("bucketId"), "bucketId")
        now = now_iso()
        doc = {"$id": bucket_id, "$createdAt": now, "$updatedAt": now, **bucket_fields(request, None)}
        store = _store(stack)
        with store.storage.write() as conn:
            if store.bucket(conn, bucket_id) is not None:
                raise AppwriteError(409, "storage_bucket_already_exists", "A storage bucket with the requested ID "
                                    "already exists. Try again with a different ID or use ID.unique() to generate a "
                                    "unique ID.")
            conn.execute("INSERT INTO aw_buckets (id, doc) VALUES (?, ?)", (bucket_id, dumps(doc)))
        return Response(201, public_bucket(doc))

    def list_buckets(request: Request) -> dict:
        with _store(stack).storage.read() as conn:
            docs = _store(stack).buckets(conn)
        page = run_list(docs, request.param("queries"), BUCKET_SCHEMA, search=request.param("search"),
                        search_text=lambda d: f"{d['$id']} {d['name']}", total=request.param("total", True),
                        key="buckets")
        page["buckets"] = [public_bucket(d) for d in page["buckets"]]
        return page

    def get_bucket(request: Request, bucket_id: str) -> dict:
        with _store(stack).storage.read() as conn:
            doc = _store(stack).bucket(conn, bucket_id)
        if doc is None:
            raise bucket_not_found()
        return public_bucket(doc)

    def update_bucket(request: Request, bucket_id: str) -> dict:
        store = _store(stack)
        with store.storage.write() as conn:
            current = store.bucket(conn, bucket_id)
            if current is None:
                raise bucket_not_found()
            doc = {**current, **bucket_fields(request, current), "$updatedAt": now_iso()}
            conn.execute("UPDATE aw_buckets SET doc = ? WHERE id = ?", (dumps(doc), bucket_id))
        return public_bucket(doc)

    def delete_bucket(request: Request, bucket_id: str) -> Response:
        store = _store(stack)
        with store.storage.write() as conn:
            if store.bucket(conn, bucket_id) is None:
                raise bucket_not_found()
            conn.execute("DELETE FROM aw_files WHERE bucket_id = ?", (bucket_id,))
            conn.execute("DELETE FROM aw_buckets WHERE id = ?", (bucket_id,))
        store.remove_bucket(bucket_id)
        return _no_content()

    def readable(request: Request, bucket_id: str, file_id: str, action: str = "read") -> tuple[dict, dict, dict]:
        """(bucket, file doc, storage meta) if the caller may ``action`` it, as Files/Get.php decides."""
        access = Access(stack, request.caller)
        access.need_scope("files.read" if action == "read" else "files.write")
        bucket = bucket_for(stack, access, bucket_id)
        by_bucket = access.allowed(bucket["$permissions"], action)
        if not by_bucket and not bucket.get("fileSecurity"):
            raise unauthorized()
        store = _store(stack)
        with store.storage.read() as conn:
            found = store.file(conn, bucket_id, file_id)
        if found is None:
            raise file_not_found()
        if not by_bucket and not access.allowed(found[0]["$permissions"], action):
            if action == "read":
                raise file_not_found()  # a file the caller may not read does not exist for them
            raise unauthorized()
        return bucket, found[0], found[1]

    def list_files(request: Request, bucket_id: str) -> dict:
        access = Access(stack, request.caller)
        access.need_scope("files.read")
        bucket = bucket_for(stack, access, bucket_id)
        by_bucket = access.allowed(bucket["$permissions"], "read")
        if not by_bucket and not bucket.get("fileSecurity"):
            raise unauthorized()
        with _store(stack).storage.read() as conn:
            docs = _store(stack).files(conn, bucket_id)
        if not by_bucket:
            docs = [d for d in docs if access.allowed(d["$permissions"], "read")]
        return run_list(docs, request.param("queries"), FILE_SCHEMA, search=request.param("search"),
                        search_text=lambda d: f"{d['$id']} {d['name']}", total=request.param("total", True),
                        key="files")

    def get_file(request: Request, bucket_id: str, file_id: str) -> dict:
        return public_file(readable(request, bucket_id, file_id)[1])

    def content(request: Request, bucket_id: str, file_id: str, disposition: str) -> Response:
        _, doc, meta = readable(request, bucket_id, file_id)
        data = _store(stack).read(bucket_id, file_id, meta) if doc["chunksUploaded"] == doc["chunksTotal"] else None
        if data is None:
            raise file_not_found()
        name = doc["name"].replace('"', "")
        return Response(200, data, {"content-type": doc["mimeType"] or "application/octet-stream",
                                    "cache-control": "private, max-age=3888000",
                                    "content-disposition": f'{disposition}; filename="{name}"'})

    def update_file(request: Request, bucket_id: str, file_id: str) -> dict:
        access = Access(stack, request.caller)
        _, doc, meta = readable(request, bucket_id, file_id, "update")
        permissions = parse_permissions(request.param("permissions"), FILE_ACTIONS)
        if permissions is not None:
            access.check_own_roles(permissions)
            doc["$permissions"] = permissions
        name = request.param("name")
        if name is not None:
            if not isinstance(name, str) or not 1 <= len(name) <= 255:
                raise AppwriteError(400, "general_argument_invalid", "Invalid `name` param: Value must be a valid "
                                    "string and at least 1 chars and no longer than 255 chars")
            doc["name"], doc["key"] = name, doc.get("folder", "") + name
        doc["$updatedAt"] = now_iso()
        store = _store(stack)
        with store.storage.write() as conn:
            if store.file(conn, bucket_id, file_id) is None:
                raise file_not_found()
            store.put_file(conn, doc, meta)
        return public_file(doc)

    def delete_file(request: Request, bucket_id: str, file_id: str) -> Response:
        readable(request, bucket_id, file_id, "delete")
        store = _store(stack)
        with store.storage.write() as conn:
            conn.execute("DELETE FROM aw_files WHERE bucket_id = ? AND id = ?", (bucket_id, file_id))
        store.remove(bucket_id, file_id)
        return _no_content()

    base = "/storage/buckets"
    router.add("POST", base, create_bucket, scope="buckets.write")
    router.add("GET", base, list_buckets, scope="buckets.read")
    router.add("GET", base + "/{bucket_id}", get_bucket, scope="buckets.read")
    router.add("PUT", base + "/{bucket_id}", update_bucket, scope="buckets.write")
    router.add("DELETE", base + "/{bucket_id}", delete_bucket, scope="buckets.write")
    # File routes are open to users and guests: the permissions decide (keys still need their scope).
    files = base + "/{bucket_id}/files"
    router.add("POST", files, lambda request, bucket_id: create_file(stack, request, bucket_id), scope=None)
    router.add("GET", files, list_files, scope=None)
    router.add("GET", files + "/{file_id}", get_file, scope=None)
    router.add("PUT", files + "/{file_id}", update_file, scope=None)
    router.add("DELETE", files + "/{file_id}", delete_file, scope=None)
    router.add("GET", files + "/{file_id}/download",
               lambda request, bucket_id, file_id: content(request, bucket_id, file_id, "attachment"), scope=None)
    router.add("GET", files + "/{file_id}/view",
               lambda request, bucket_id, file_id: content(request, bucket_id, file_id, "inline"), scope=None)


def _no_content() -> Response:
    return Response(204, b"", {"content-type": "text/plain"})
