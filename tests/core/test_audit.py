"""The audit trail on the local stack: 20 concurrent audited changes leave one gapless valid chain;
editing, deleting or swapping any one row makes ``verify`` name the first bad sequence; list filters
and CSV export."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech.audit.chain import entry_row_id
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
    assert verdict == {"ok": True, "checked": total, "first_bad_seq": None, "reason": None, "head_seq": total}


def verify(owner):
    result = owner.call("audit", "GET", "/verify")
    assert result.status == 200, result
    return result.body


@pytest.mark.parametrize("seq", [1, 7, CONCURRENT])
def test_an_edited_row_is_named(stack, chain, seq):
    tenant_id, owner, _, _ = chain
    tables, stored = rows(stack, tenant_id)
    original = stored[seq - 1].data["actor"]
    tables.update_row(f"tenant_{tenant_id}", "audit", entry_row_id(seq), {"actor": "mallory"})
    try:
        assert (verify(owner)["first_bad_seq"], verify(owner)["reason"]) == (seq, "edited")
    finally:
        tables.update_row(f"tenant_{tenant_id}", "audit", entry_row_id(seq), {"actor": original})
    assert verify(owner)["ok"] is True


@pytest.mark.parametrize("seq", [1, 7, CONCURRENT])
def test_a_deleted_row_is_named(stack, chain, seq):
    tenant_id, owner, _, _ = chain
    tables, stored = rows(stack, tenant_id)
    kept = {k: v for k, v in stored[seq - 1].data.items() if not k.startswith("$")}
    tables.delete_row(f"tenant_{tenant_id}", "audit", entry_row_id(seq))
    try:
        assert (verify(owner)["first_bad_seq"], verify(owner)["reason"]) == (seq, "missing")
    finally:
        tables.create_row(f"tenant_{tenant_id}", "audit", entry_row_id(seq), kept)
    assert verify(owner)["ok"] is True


@pytest.mark.parametrize("seq", [1, 7, CONCURRENT - 1])
def test_swapped_rows_are_named(stack, chain, seq):
    tenant_id, owner, _, _ = chain
    tables, _ = rows(stack, tenant_id)
    db = f"tenant_{tenant_id}"
    first, second = entry_row_id(seq), entry_row_id(seq + 1)

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


def test_list_filters_and_pages(chain):
    _, owner, _, base = chain
    top = base + CONCURRENT
    newest = owner.call("audit", "GET", "/?limit=5").body
    assert [e["seq"] for e in newest["items"]] == list(range(top, top - 5, -1)) and newest["next_cursor"]
    older = owner.call("audit", "GET", f"/?limit=5&cursor={newest['next_cursor']}").body
    assert [e["seq"] for e in older["items"]] == list(range(top - 5, top - 10, -1))
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
