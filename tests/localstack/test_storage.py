"""The local stack's Storage service, through the unmodified SDK: buckets, chunked uploads, permissions."""

from __future__ import annotations

import hashlib
import os

import pytest
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.input_file import InputFile
from appwrite.permission import Permission
from appwrite.query import Query
from appwrite.role import Role
from appwrite.services.storage import Storage
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from tests.conftest import make_client


@pytest.fixture
def storage(client) -> Storage:
    return Storage(client)


@pytest.fixture
def team_bucket(storage, client):
    """A bucket like a tenant's: fileSecurity on, no bucket-level read, small limits."""
    team_id = "st" + ID.unique()[:20]
    Teams(client).create(team_id, "Storage team")
    bucket = storage.create_bucket(ID.unique(), "tenant files", permissions=[], file_security=True,
                                   maximum_file_size=8 * 1024 * 1024, allowed_file_extensions=["pdf", "csv", "bin"],
                                   compression="gzip", encryption=True, antivirus=True)
    yield team_id, bucket
    storage.delete_bucket(bucket.id)
    Teams(client).delete(team_id)


def _member(stack, client, team_id: str | None) -> Storage:
    users = Users(client)
    user = users.create(ID.unique(), f"{ID.unique()}@storage.test", password="password-123456")
    if team_id:
        Teams(client).create_membership(team_id, ["analyst"], user_id=user.id)
    return Storage(make_client(stack, jwt=users.create_jwt(user.id).jwt))


def test_bucket_crud_stores_every_flag(storage):
    bucket = storage.create_bucket(ID.unique(), "flags", permissions=[Permission.read(Role.users())],
                                   file_security=True, maximum_file_size=1000, allowed_file_extensions=["pdf"],
                                   compression="gzip", encryption=False, antivirus=True)
    got = storage.get_bucket(bucket.id)
    assert (got.filesecurity, got.maximumfilesize, got.allowedfileextensions, got.compression, got.encryption,
            got.antivirus, got.permissions) == (True, 1000, ["pdf"], "gzip", False, True, ['read("users")'])
    updated = storage.update_bucket(bucket.id, "renamed", file_security=False, maximum_file_size=2000)
    assert (updated.name, updated.filesecurity, updated.maximumfilesize) == ("renamed", False, 2000)
    listed = storage.list_buckets([Query.equal("name", "renamed")])
    assert bucket.id in [b.id for b in listed.buckets]
    with pytest.raises(AppwriteException) as duplicate:
        storage.create_bucket(bucket.id, "again")
    assert (duplicate.value.code, duplicate.value.type) == (409, "storage_bucket_already_exists")
    with pytest.raises(AppwriteException) as too_big:
        storage.create_bucket(ID.unique(), "huge", maximum_file_size=10**12)
    assert too_big.value.code == 400
    storage.delete_bucket(bucket.id)
    with pytest.raises(AppwriteException) as gone:
        storage.get_bucket(bucket.id)
    assert (gone.value.code, gone.value.type) == (404, "storage_bucket_not_found")


def test_chunked_upload_of_a_big_file_round_trips(stack, storage, team_bucket):
    _, bucket = team_bucket
    data = os.urandom(6 * 1024 * 1024 + 123)  # two chunks: the SDK sends content-range and x-appwrite-id
    progress: list[dict] = []
    created = storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(data, "big.bin"),
                                  on_progress=progress.append)
    assert (created.chunkstotal, created.chunksuploaded, created.sizeoriginal) == (2, 2, len(data))
    assert created.signature == hashlib.md5(data).hexdigest()
    assert created.encryption is True
    assert storage.get_file_download(bucket.id, created.id) == data
    assert progress[-1]["chunksUploaded"] == 2
    on_disk = (stack.settings.data_dir / "storage" / bucket.id / created.id).read_bytes()
    assert data[:64] not in on_disk  # encrypted at rest


def test_limits_answer_appwrites_errors(storage, team_bucket):
    _, bucket = team_bucket
    with pytest.raises(AppwriteException) as wrong_type:
        storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(b"MZ...", "tool.exe"))
    assert (wrong_type.value.code, wrong_type.value.type) == (400, "storage_file_type_unsupported")
    with pytest.raises(AppwriteException) as too_big:  # 9 MiB: refused on its first chunk, nothing kept
        storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(b"x" * (9 * 1024 * 1024), "big.bin"))
    assert (too_big.value.code, too_big.value.type) == (400, "storage_invalid_file_size")
    assert storage.list_files(bucket.id).total == 0


def test_file_permissions_for_members_outsiders_and_guests(stack, client, storage, team_bucket):
    team_id, bucket = team_bucket
    created = storage.create_file(bucket.id, ID.unique(), InputFile.from_bytes(b"%PDF-1.4 receipt", "r.pdf"),
                                  permissions=[Permission.read(Role.team(team_id))])
    assert created.mimetype == "application/pdf"
    member = _member(stack, client, team_id)
    assert member.get_file_download(bucket.id, created.id) == b"%PDF-1.4 receipt"
    assert [f.id for f in member.list_files(bucket.id).files] == [created.id]
    with pytest.raises(AppwriteException) as cannot_delete:  # read only
        member.delete_file(bucket.id, created.id)
    assert cannot_delete.value.code == 401

    outsider = _member(stack, client, None)
    guest = Storage(make_client(stack, key=None).set_key(""))
    for stranger in (outsider, guest):
        with pytest.raises(AppwriteException) as hidden:
            stranger.get_file_download(bucket.id, created.id)
        assert (hidden.value.code, hidden.value.type) == (404, "storage_file_not_found")
        assert stranger.list_files(bucket.id).total == 0
        with pytest.raises(AppwriteException) as no_upload:
            stranger.create_file(bucket.id, ID.unique(), InputFile.from_bytes(b"x", "x.pdf"))
        assert no_upload.value.code == 401

    updated = storage.update_file(bucket.id, created.id, permissions=[Permission.read(Role.user("nobody"))])
    assert updated.permissions == ['read("user:nobody")']
    with pytest.raises(AppwriteException):
        member.get_file(bucket.id, created.id)
    storage.delete_file(bucket.id, created.id)
    with pytest.raises(AppwriteException) as deleted:
        storage.get_file(bucket.id, created.id)
    assert deleted.value.code == 404


def test_a_whole_file_onto_an_existing_id_is_a_conflict(storage, team_bucket):
    _, bucket = team_bucket
    file_id = ID.unique()
    storage.create_file(bucket.id, file_id, InputFile.from_bytes(b"a,b\r\n", "e.csv"))
    with pytest.raises(AppwriteException) as again:
        storage.create_file(bucket.id, file_id, InputFile.from_bytes(b"a,b\r\n", "e.csv"))
    assert (again.value.code, again.value.type) == (409, "storage_file_already_exists")
    view = storage.get_file_view(bucket.id, file_id)
    assert view == b"a,b\r\n"
    assert storage.list_files(bucket.id, [Query.equal("name", "e.csv")]).total == 1
