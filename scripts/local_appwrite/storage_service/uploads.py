"""``POST /storage/buckets/{id}/files``: one whole file, or one chunk of a chunked upload.

The SDK (``Client.chunked_upload``) sends a file up to 5 MiB in one multipart request; a bigger one
in 5 MiB chunks, each with ``content-range: bytes <start>-<end>/<size>``: the first alone, carrying
the file id as ``x-appwrite-id`` too when the caller chose one, then the rest **concurrently** (eight
threads), each with ``x-appwrite-id``. As in ``Files/Create.php``: the chunk number is
``start / 5 MiB + 1``, the size and extension limits are checked on every chunk against the whole
file's size, the file document exists from the first chunk on with ``chunksUploaded`` counting the
chunks on disk, and the chunk that completes it answers 201 with the finished file; a chunk sent
again for a complete file answers 200 with it, and a whole-file upload onto an existing id is 409.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import threading
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from ..common import now_iso, resolve_id
from ..errors import AppwriteError
from ..http import Request, Response
from .access import FILE_ACTIONS, Access, parse_permissions, unauthorized

if TYPE_CHECKING:
    from ..app import LocalAppwrite
    from .store import FileStore

CHUNK_SIZE = 5 * 1024 * 1024  # APP_LIMIT_UPLOAD_CHUNK_SIZE
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")
_FILE_LOCKS: dict[str, threading.Lock] = {}
_FILE_LOCKS_GUARD = threading.Lock()
_SNIFF = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
          (b"PK\x03\x04", "application/zip"), (b"GIF8", "image/gif"))


def _lock(key: str) -> threading.Lock:
    with _FILE_LOCKS_GUARD:
        return _FILE_LOCKS.setdefault(key, threading.Lock())


def form(request: Request) -> tuple[dict[str, Any], tuple[str, bytes] | None]:
    """The multipart body's fields (``permissions[0]`` folded into a list) and its ``file`` part."""
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        return dict(request.params), None
    head = b"content-type: " + content_type.encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + request.body)
    fields: dict[str, Any] = dict(request.params)
    upload = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None or name == "file":
            upload = (filename or "", payload)
            continue
        text = payload.decode("utf-8", "replace")
        found = re.fullmatch(r"(\w+)\[(\d*)\]", name)
        if found:
            fields.setdefault(found.group(1), []).append(text)
        else:
            fields[name] = text
    return fields, upload


def mime_type(name: str, data: bytes) -> str:
    for magic, kind in _SNIFF:
        if data.startswith(magic):
            return kind
    guessed = mimetypes.guess_type(name)[0]
    if guessed:
        return guessed
    try:
        data[:4096].decode("utf-8")
        return "text/plain"
    except UnicodeDecodeError:
        return "application/octet-stream"


def normalize_folder(value: Any) -> str:
    folder = str(value or "").strip().strip("/")
    if folder and (".." in folder.split("/") or not re.fullmatch(r"[A-Za-z0-9._\- /]{1,255}", folder)):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `folder` param: Folder is not valid.")
    return f"{folder}/" if folder else ""


def create_file(stack: LocalAppwrite, request: Request, bucket_id: str) -> Response:
    from .routes import bucket_for, public_file  # the routes module owns the bucket lookup

    store: FileStore = stack.files  # type: ignore[attr-defined]
    access = Access(stack, request.caller)
    access.need_scope("files.write")
    bucket = bucket_for(stack, access, bucket_id)
    if not access.allowed(bucket["$permissions"], "create"):
        raise unauthorized()
    fields, upload = form(request)
    permissions = parse_permissions(fields.get("permissions"), FILE_ACTIONS)
    if permissions is None:
        permissions = [f'{a}("user:{access.user_id}")' for a in ("read", "update", "delete")] \
            if access.user_id else []
    access.check_own_roles(permissions)
    if upload is None:
        raise AppwriteError(400, "storage_file_empty", "Empty file passed to the endpoint.")
    name, data = upload
    file_id = resolve_id(fields.get("fileId"), "fileId")
    folder = normalize_folder(fields.get("folder"))
    size, chunk, chunks = len(data), 1, 1
    content_range = request.headers.get("content-range", "")
    if content_range:
        found = _RANGE.match(content_range.strip())
        if not found or int(found.group(2)) > int(found.group(3)) or int(found.group(1)) > int(found.group(2)):
            raise AppwriteError(400, "storage_invalid_content_range",
                                "The content range is invalid. Please check the value of the Content-Range header.")
        start, size = int(found.group(1)), int(found.group(3))
        header_id = request.headers.get("x-appwrite-id") or file_id
        if header_id == "unique()" or not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,35}", header_id):
            raise AppwriteError(400, "storage_invalid_appwrite_id",
                                "The value for x-appwrite-id header is invalid. Please check the value of the "
                                "x-appwrite-id header is a valid id and not unique().")
        file_id = header_id
        chunks = -(-size // CHUNK_SIZE)
        chunk = start // CHUNK_SIZE + 1
    extensions = bucket.get("allowedFileExtensions") or []
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extensions and extension not in {e.lower() for e in extensions}:
        raise AppwriteError(400, "storage_file_type_unsupported", "File extension not allowed")
    if size > int(bucket.get("maximumFileSize") or 0) or size <= 0:
        raise AppwriteError(400, "storage_invalid_file_size", "File size not allowed")

    with _lock(f"{bucket_id}/{file_id}"):
        with store.storage.write() as conn:
            existing = store.file(conn, bucket_id, file_id)
            if existing is not None:
                doc = existing[0]
                if doc["chunksUploaded"] == doc["chunksTotal"]:
                    if not content_range:
                        raise AppwriteError(409, "storage_file_already_exists",
                                            "A storage file with the requested ID already exists.")
                    return Response(200, public_file(doc))
            elif content_range:
                doc = _document(file_id, bucket_id, name, folder, permissions, size, chunks)
                store.put_file(conn, doc, {})
        uploaded = store.write_part(bucket_id, file_id, chunk, data)
        with store.storage.write() as conn:
            existing = store.file(conn, bucket_id, file_id)
            doc = existing[0] if existing else _document(file_id, bucket_id, name, folder, permissions, size, chunks)
            if uploaded < chunks:
                doc.update(chunksUploaded=uploaded, **{"$updatedAt": now_iso()})
                store.put_file(conn, doc, {})
                return Response(201, public_file(doc))
            whole = store.assemble(bucket_id, file_id, chunks)
            meta = store.save(bucket, file_id, whole)
            doc.update({
                "$permissions": permissions, "signature": hashlib.md5(whole).hexdigest(),  # noqa: S324 - Appwrite's
                "mimeType": mime_type(name, whole), "sizeActual": meta.pop("size_actual"),
                "chunksUploaded": chunks, "encryption": bool(meta.get("cipher")),
                "compression": meta["algorithm"], "$updatedAt": now_iso(),
            })
            store.put_file(conn, doc, meta)
    return Response(201, public_file(doc))


def _document(file_id: str, bucket_id: str, name: str, folder: str, permissions: list[str], size: int,
              chunks: int) -> dict:
    now = now_iso()
    return {
        "$id": file_id, "bucketId": bucket_id, "$createdAt": now, "$updatedAt": now, "$permissions": permissions,
        "name": name, "folder": folder, "key": folder + name, "signature": "", "mimeType": "",
        "sizeOriginal": size, "sizeActual": 0, "chunksTotal": chunks, "chunksUploaded": 0,
        "encryption": False, "compression": "none",
    }
