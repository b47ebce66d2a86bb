"""The unit of work without a stack: commits in three calls, retries conflicts with fresh builds,
gives up with 409 busy, rolls back on failure; the outbox row it stages carries the envelope."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from appwrite.exception import AppwriteException

from bigtech import uow
from bigtech.errors import Conflict
from bigtech.outbox_writer import envelope_from_row, stage_event


class FakeTables:
    def __init__(self, failures: list[AppwriteException | None]) -> None:
        self.failures = failures
        self.calls: list[tuple] = []

    def create_transaction(self, ttl=None):
        self.calls.append(("create", ttl))
        return SimpleNamespace(id=f"tx{len(self.calls)}")

    def create_operations(self, transaction_id, operations):
        self.calls.append(("stage", transaction_id, len(operations)))

    def update_transaction(self, transaction_id, commit=None, rollback=None):
        self.calls.append(("commit" if commit else "rollback", transaction_id))
        if commit and self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure


def conflict() -> AppwriteException:
    return AppwriteException("conflict", 409, "transaction_conflict")


def build_counter():
    builds = []

    def build(unit):
        builds.append(len(builds))
        unit.create("db", "t", f"row{len(builds)}", {"n": len(builds)})
        return len(builds)

    return build, builds


def test_commit_is_three_calls():
    tables = FakeTables([])
    build, _ = build_counter()
    assert uow.run(tables, build) == 1
    assert [c[0] for c in tables.calls] == ["create", "stage", "commit"]
    assert tables.calls[0][1] == uow.TRANSACTION_TTL


def test_conflicts_rebuild_and_retry():
    tables = FakeTables([conflict(), conflict(), None])
    build, builds = build_counter()
    assert uow.run(tables, build, sleep=lambda _s: None) == 3
    assert len(builds) == 3
    assert [c[0] for c in tables.calls].count("rollback") == 2


def test_too_many_conflicts_is_409_busy():
    tables = FakeTables([conflict()] * 5)
    build, builds = build_counter()
    with pytest.raises(Conflict) as caught:
        uow.run(tables, build, attempts=4, sleep=lambda _s: None)
    assert caught.value.code == "busy" and len(builds) == 4


def test_other_errors_are_raised_at_once():
    tables = FakeTables([AppwriteException("bad", 400, "row_invalid_structure")])
    build, builds = build_counter()
    with pytest.raises(AppwriteException):
        uow.run(tables, build, sleep=lambda _s: None)
    assert len(builds) == 1


def test_nothing_staged_commits_nothing_and_callbacks_run_after_commit():
    tables = FakeTables([])
    assert uow.run(tables, lambda unit: "nothing") == "nothing"
    assert tables.calls == []
    seen = []

    def build(unit):
        unit.update("db", "t", "r", {"x": 1})
        unit.after_commit(lambda: seen.append("done"))

    uow.run(tables, build)
    assert seen == ["done"]


def test_operation_shapes():
    unit = uow.UnitOfWork()
    unit.increment("db", "wallets", "w", "balance", 5, max=100)
    unit.decrement("db", "wallets", "w", "balance", 2, min=0)
    unit.delete("db", "t", "r")
    assert unit.operations == [
        {"action": "increment", "databaseId": "db", "tableId": "wallets", "rowId": "w",
         "data": {"column": "balance", "value": 5, "max": 100}},
        {"action": "decrement", "databaseId": "db", "tableId": "wallets", "rowId": "w",
         "data": {"column": "balance", "value": 2, "min": 0}},
        {"action": "delete", "databaseId": "db", "tableId": "t", "rowId": "r"},
    ]


def test_outbox_row_round_trips_the_envelope():
    unit = uow.UnitOfWork()
    envelope = stage_event(unit, "member.added", "acme", {"user_id": "u1"}, actor="owner1")
    operation = unit.operations[0]
    assert (operation["databaseId"], operation["tableId"], operation["rowId"]) == ("tenant_acme", "outbox",
                                                                                    envelope.id)
    assert operation["data"]["status"] == "pending"
    again = envelope_from_row(operation["rowId"], operation["data"])
    assert again.model_dump() == {**envelope.model_dump(), "occurred_at": again.occurred_at}
    assert again.data == {"user_id": "u1"} and again.actor == "owner1"
