"""Appwrite access: a fresh client per execution from the request's key, and SDK error helpers."""

import pytest
from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from bigtech import appwrite_access
from bigtech.appwrite_access import AppwriteAccessError, is_unique_violation, key_client, translate, user_client
from bigtech.errors import Conflict, NotFound
from bigtech.http import Request
from bigtech.settings import FunctionSettings
from tests.support.fake_context import make_context

SETTINGS = FunctionSettings(endpoint="http://appwrite.test/v1", project_id="p1")


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("APPWRITE_FUNCTION_API_ENDPOINT", "http://appwrite.test/v1")
    monkeypatch.setenv("APPWRITE_FUNCTION_PROJECT_ID", "p1")


def test_key_client_uses_this_executions_key_and_is_never_shared():
    first = key_client(make_context(headers={"x-appwrite-key": "ephemeral_one"}))
    second = key_client(make_context(headers={"x-appwrite-key": "ephemeral_two"}))
    assert first is not second
    assert first.get_headers()["x-appwrite-key"] == "ephemeral_one"
    assert second.get_headers()["x-appwrite-key"] == "ephemeral_two"
    assert first.get_config("project") == "p1"
    assert first._endpoint == "http://appwrite.test/v1"


def test_helpers_accept_a_request_and_return_services():
    request = Request(make_context(headers={"X-Appwrite-Key": "k"}))
    service = appwrite_access.tables(request)
    assert isinstance(service, TablesDB)
    assert service.client.get_headers()["x-appwrite-key"] == "k"
    for helper in (appwrite_access.users, appwrite_access.teams, appwrite_access.functions):
        assert helper(request).client.get_headers()["x-appwrite-key"] == "k"


def test_missing_key_or_settings_is_a_loud_configuration_error():
    with pytest.raises(AppwriteAccessError):
        key_client(make_context())
    with pytest.raises(AppwriteAccessError):
        key_client(make_context(headers={"x-appwrite-key": "k"}), FunctionSettings())


def test_user_client_from_the_user_jwt_only():
    assert user_client(make_context()) is None
    client = user_client(make_context(headers={"x-appwrite-user-jwt": "jwt1"}), SETTINGS)
    assert client.get_headers()["x-appwrite-jwt"] == "jwt1"
    assert "x-appwrite-key" not in client.get_headers()


def test_unique_violation_accepts_both_server_generations():
    assert is_unique_violation(AppwriteException("dup", 409, "row_already_exists"))
    assert is_unique_violation(AppwriteException("dup", 409, "row_unique_constraint_violation"))
    assert not is_unique_violation(AppwriteException("c", 409, "transaction_conflict"))
    assert not is_unique_violation(ValueError())


def test_translate_maps_meaningful_statuses_only():
    assert isinstance(translate(AppwriteException("x", 404, "row_not_found"), not_found="Order not found."), NotFound)
    conflict = translate(AppwriteException("x", 409, "row_already_exists"))
    assert isinstance(conflict, Conflict) and conflict.code == "already_exists"
    original = AppwriteException("x", 500, "general_server_error")
    assert translate(original) is original
