"""The audit trail on the local stack: 20 concurrent audited changes leave one gapless valid chain;
editing, deleting or swapping any one row makes ``verify`` name the first bad sequence; list filters
and CSV export."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from urllib.parse import quote

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from tests.conftest import make_client
from tests.support.actors import create_tenant, unique_suffix

CONCURRENT = 20


@pytest.fixture(scope="module")
def chain(stack, world):
    """A tenant whose audit trail ends with the 20 concurrent member additions (after whatever tenant
    creation recorded, e.g. enabling the default plugins)."""
    tenant_id, owner = create_tenant(stack, world.admin)
    base = owner.call("audit", "GET", "/verify").body["head_seq"]
    emails = [f"c{n}-{unique_suffix()}@example.com" for n in range(CONCURRENT)]
    with ThreadPoolExecutor(CONCURRENT) as pool:
        results = list(pool.map(lambda email: owner.call("members", "POST", "/", {"email": email, "role": "viewer"}),
                                emails))
    return tenant_id, owner, results, base


def rows(stack, tenant_id):
    tables = TablesDB(make_client(stack))
    return tables, tables.list_rows(f"tenant_{tenant_id}", "audit", [Query.order_asc("seq"), Query.limit(100)]).rows


@pytest.mark.slow
def test_concurrent_changes_leave_one_gapless_valid_chain(stack, chain):
    tenant_id, owner, results, base = chain
    assert [r.status for r in results] == [201] * CONCURRENT, [r for r in results if r.status != 201]
    audit_ids = {r.body["audit_id"] for r in results}
    assert len(audit_ids) == CONCURRENT
    _, stored = rows(stack, tenant_id)
    total = base + CONCURRENT
    assert [r.data["seq"] for r in stored] == list(range(1, total + 1))
    assert {r.id for r in stored[base:]} == audit_ids
    verdict = owner.call("audit", "GET", "/verify").body
    assert verdict == {"ok": True, "checked": total, "first_bad_seq": None, "reason": None, "head_seq": total,
                       "unsealed": 0, "anchored_seq": total, "unanchored": 0}  # each seal signed a checkpoint


def verify(owner):
    result = owner.call("audit", "GET", "/verify")
    assert result.status == 200, result
    return result.body


@pytest.mark.parametrize("seq", [1, 7, CONCURRENT])
def test_an_edited_row_is_named(stack, chain, seq):
    tenant_id, owner, _, _ = chain
    tables, stored = rows(stack, tenant_id)
    original = stored[seq - 1].data["actor"]
    target = stored[seq - 1].id
    tables.update_row(f"tenant_{tenant_id}", "audit", target, {"actor": "mallory"})
    try:
        assert (verify(owner)["first_bad_seq"], verify(owner)["reason"]) == (seq, "edited")
    finally:
        tables.update_row(f"tenant_{tenant_id}", "audit", target, {"actor": original})
    assert verify(owner)["ok"] is True


@pytest.mark.parametrize("seq", [1, 7, CONCURRENT])
def test_a_deleted_row_is_named(stack, chain, seq):
    tenant_id, owner, _, _ = chain
    tables, stored = rows(stack, tenant_id)
    kept = {k: v for k, v in stored[seq - 1].data.items() if not k.startswith("$")}
    target = stored[seq - 1].id
    tables.delete_row(f"tenant_{tenant_id}", "audit", target)
    try:
        assert (verify(owner)["first_bad_seq"], verify(owner)["reason"]) == (seq, "missing")
    finally:
        tables.create_row(f"tenant_{tenant_id}", "audit", target, kept)
    assert verify(owner)["ok"] is True


@pytest.mark.parametrize("seq", [1, 7, CONCURRENT - 1])
def test_swapped_rows_are_named(stack, chain, seq):
    tenant_id, owner, _, _ = chain
    tables, stored = rows(stack, tenant_id)
    db = f"tenant_{tenant_id}"
    first, second = stored[seq - 1].id, stored[seq].id

    def swap():
        tables.update_row(db, "audit", first, {"seq": 999_999})
        tables.update_row(db, "audit", second, {"seq": seq})
        tables.update_row(db, "audit", first, {"seq": seq + 1})

    swap()
    try:
        assert verify(owner)["first_bad_seq"] == seq
    finally:
        tables.update_row(db, "audit", second, {"seq": 999_999})
        tables.update_row(db, "audit", first, {"seq": seq})
        tables.update_row(db, "audit", second, {"seq": seq + 1})
    assert verify(owner)["ok"] is True


def test_list_filters_and_pages(stack, chain):
    tenant_id, owner, _, _ = chain
    # Newest first by write order ($sequence); the tamper tests above re-created a few rows, so read it back.
    written = TablesDB(make_client(stack)).list_rows(f"tenant_{tenant_id}", "audit",
                                                     [Query.order_desc("$sequence"), Query.limit(10)]).rows
    newest = owner.call("audit", "GET", "/?limit=5").body
    assert [e["id"] for e in newest["items"]] == [r.id for r in written[:5]] and newest["next_cursor"]
    assert [e["seq"] for e in newest["items"]] == [r.data["seq"] for r in written[:5]]
    older = owner.call("audit", "GET", f"/?limit=5&cursor={newest['next_cursor']}").body
    assert [e["id"] for e in older["items"]] == [r.id for r in written[5:10]]
    by_actor = owner.call("audit", "GET", f"/?actor={owner.user_id}&action=members.add&limit=100").body
    assert len(by_actor["items"]) == CONCURRENT
    assert owner.call("audit", "GET", "/?action=tenants.create").body["items"] == []
    middle = newest["items"][2]["occurred_at"]
    moment = quote(middle)
    window = owner.call("audit", "GET", f"/?from={moment}&to={moment}&limit=100").body["items"]
    assert window and all(e["occurred_at"] == middle for e in window)
    assert owner.call("audit", "GET", "/?from=2999-01-01T00:00:00Z").body["items"] == []


def test_export_is_csv_of_the_whole_chain(chain):
    _, owner, _, base = chain
    result = owner.call("audit", "GET", "/export")
    assert result.status == 200 and result.headers["content-type"].startswith("text/csv")
    lines = list(csv.DictReader(io.StringIO(result.raw)))
    assert [int(line["seq"]) for line in lines] == list(range(1, base + CONCURRENT + 1))
    assert all(len(line["hash"]) == 64 for line in lines)


def test_platform_trail_verifies(world):
    verdict = world.admin.call("audit", "GET", "/platform/verify").body
    assert verdict["ok"] is True and verdict["checked"] >= 2
    exported = world.admin.call("audit", "GET", "/platform/export")
    assert exported.status == 200 and "tenants.create" in exported.raw


def test_an_entry_left_unsealed_is_counted_then_flagged_then_swept(stack, world):
    """A writer whose sealer failed leaves its entry unsealed: fresh, it is only counted; past the grace
    period ``verify`` flags it; the sweep (``seal_all``) seals it into the chain."""
    from datetime import UTC, datetime, timedelta

    from bigtech import uow
    from bigtech.audit import AuditTrail, seal_all, stage_entry, verify_trail

    tenant_id, _ = create_tenant(stack, world.admin)
    tables = TablesDB(make_client(stack))
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    unit = uow.UnitOfWork()
    entry = stage_entry(tables, unit, trail, action="test.unsealed", actor="tester")
    uow.commit(tables, unit.operations)  # committed without running the after-commit sealer
    stored = tables.get_row(trail.database_id, trail.table_id, entry.id).data
    assert stored["seq"] is None and stored["hash"] is None and stored["action"] == "test.unsealed"

    fresh = verify_trail(tables, trail)
    assert fresh.ok and fresh.unsealed == 1
    late = verify_trail(tables, trail, now=datetime.now(UTC) + timedelta(minutes=20))
    assert (late.ok, late.reason, late.unsealed) == (False, "unsealed", 1)

    assert seal_all(tables, [trail]) == {"sealed": 1, "errors": []}
    sealed = verify_trail(tables, trail)
    assert sealed.ok and sealed.unsealed == 0
    assert tables.get_row(trail.database_id, trail.table_id, entry.id).data["seq"] == sealed.head_seq


def test_a_sealer_with_a_stale_view_cannot_move_the_head_back(stack, world):
    """The head moves by an increment bounded by what the sealer read: one that read the head and the
    unsealed entries before another sealer committed loses (and retries on fresh reads) instead of
    re-sealing those entries and setting the head back."""
    from bigtech import uow
    from bigtech.audit import AuditTrail, read_head, seal, stage_entry, verify_trail
    from bigtech.audit.writer import unsealed_rows

    tenant_id, _ = create_tenant(stack, world.admin)
    tables = TablesDB(make_client(stack))
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    unit = uow.UnitOfWork()
    entry = stage_entry(tables, unit, trail, action="test.stale", actor="tester")
    uow.commit(tables, unit.operations)
    stale_head, stale_rows = read_head(tables, trail), unsealed_rows(tables, trail)
    assert seal(tables, trail) == 1  # the other sealer wins
    head = read_head(tables, trail)
    assert head.seq == stale_head.seq + 1

    class Stale:
        """TablesDB whose first head read and first list answer what was true before that seal."""

        def __init__(self):
            self.stale = {"get_row", "list_rows"}

        def get_row(self, *args, **kwargs):
            if "get_row" in self.stale:
                self.stale.discard("get_row")
                return SimpleNamespace(data={"seq": stale_head.seq, "hash": stale_head.hash})
            return tables.get_row(*args, **kwargs)

        def list_rows(self, *args, **kwargs):
            if "list_rows" in self.stale:
                self.stale.discard("list_rows")
                return SimpleNamespace(rows=stale_rows)
            return tables.list_rows(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(tables, name)

    pauses = []
    assert seal(Stale(), trail, entry.id, sleep=pauses.append) == 0  # lost once, then found it sealed
    assert len(pauses) == 1
    assert read_head(tables, trail) == head
    assert verify_trail(tables, trail).ok

