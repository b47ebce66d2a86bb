"""Anchored audit trails on the local stack, attacked the way someone with database write access would
(the API key, editing rows directly): a rewritten entry with every later hash and the head recomputed,
a deleted tail with the head rolled back, a rewritten suffix. ``GET /verify`` names the first bad
sequence each time, a later change does not launder the forgery into a new checkpoint, and an
exported trail verifies offline with only the public key."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB

from bigtech import uow
from bigtech.audit import AuditEntry, AuditTrail, PublicKeys, load_public_keys, seal_all, stage_entry, verify_trail
from bigtech.audit.anchoring import CHECKPOINT_TABLE, stored_checkpoints
from bigtech.audit.writer import HEAD_ROW, HEAD_TABLE, seal_quietly
from tests.conftest import make_client
from tests.support.actors import REPO_ROOT, create_tenant, unique_suffix

CHANGES = 8


def add_members(owner, count: int) -> None:
    for _ in range(count):
        result = owner.call("members", "POST", "/", {"email": f"m-{unique_suffix()}@example.com", "role": "viewer"})
        assert result.status == 201, result


@pytest.fixture
def tenant(stack, world):
    """A fresh tenant whose trail ends with ``CHANGES`` member additions, each sealed and checkpointed."""
    tenant_id, owner = create_tenant(stack, world.admin)
    add_members(owner, CHANGES)
    return tenant_id, owner


def sealed(stack, trail: AuditTrail) -> tuple[TablesDB, list[tuple[str, AuditEntry]]]:
    tables = TablesDB(make_client(stack))
    rows = tables.list_rows(trail.database_id, trail.table_id,
                            [Query.is_not_null("seq"), Query.order_asc("seq"), Query.limit(500)]).rows
    return tables, [(row.id, AuditEntry.from_row(row.data)) for row in rows]


def verify(actor, path: str = "/verify") -> dict:
    result = actor.call("audit", "GET", path)
    assert result.status == 200, result
    return result.body


def forge_from(tables: TablesDB, trail: AuditTrail, chain: list[tuple[str, AuditEntry]], start: int,
               replacements: list[AuditEntry]) -> None:
    """The attacker's rewrite: entries from ``start`` (index) become ``replacements``, re-sealed on the
    real prefix, written over (or after) the stored rows; the head moves to the new last entry."""
    previous = chain[start - 1][1] if start else None
    seq, last_hash = (previous.seq, previous.hash) if previous else (0, None)
    for offset, content in enumerate(replacements):
        forged = dataclasses.replace(content, seq=0, hash="").seal_after(seq, last_hash)
        row = forged.to_row()
        if start + offset < len(chain):
            tables.update_row(trail.database_id, trail.table_id, chain[start + offset][0], row)
        else:
            tables.create_row(trail.database_id, trail.table_id, f"forged{unique_suffix()}", row)
        seq, last_hash = forged.seq, forged.hash
    tables.update_row(trail.database_id, HEAD_TABLE, HEAD_ROW, {"seq": seq, "hash": last_hash})


def test_every_sealed_change_is_anchored_by_a_signed_checkpoint(stack, tenant):
    tenant_id, owner = tenant
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    verdict = verify(owner)
    assert verdict["ok"] is True and verdict["anchored_seq"] == verdict["head_seq"] and verdict["unanchored"] == 0
    published = owner.call("audit", "GET", "/public-key").body
    assert published["algorithm"] == "Ed25519" and published["configured"] is True
    keys = PublicKeys.from_text([k["public_key"] for k in published["keys"]])
    found = list(stored_checkpoints(TablesDB(make_client(stack)), trail))
    assert found and all(c.is_valid(keys, trail.chain_id) for c in found)
    assert max(c.seq for c in found) == verdict["head_seq"]
    assert not any(os.environ["BIGTECH_AUDIT_SIGNING_KEY"] in json.dumps(c.to_row()) for c in found)


def test_an_edit_with_every_later_hash_and_the_head_recomputed_is_named(stack, tenant):
    """Attack (a): entry 4's actor changed; entries 4… and the head re-sealed so the chain is consistent."""
    tenant_id, owner = tenant
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    tables, chain = sealed(stack, trail)
    target = 3  # seq 4
    edited = [dataclasses.replace(chain[target][1], actor="mallory"), *(e for _, e in chain[target + 1:])]
    forge_from(tables, trail, chain, target, edited)
    verdict = verify(owner)
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, 4, "rewritten")

    add_members(owner, 1)  # a later change seals on the forged head: its checkpoint is refused
    again = verify(owner)
    assert (again["ok"], again["first_bad_seq"], again["reason"]) == (False, 4, "rewritten")
    assert again["anchored_seq"] == len(chain)  # nothing signed over the forgery


def test_a_deleted_tail_with_the_head_rolled_back_is_named(stack, tenant):
    """Attack (b): the last three entries deleted, the head set back to the entry before them."""
    tenant_id, owner = tenant
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    tables, chain = sealed(stack, trail)
    for row_id, _ in chain[-3:]:
        tables.delete_row(trail.database_id, trail.table_id, row_id)
    kept = chain[-4][1]
    tables.update_row(trail.database_id, HEAD_TABLE, HEAD_ROW, {"seq": kept.seq, "hash": kept.hash})
    verdict = verify(owner)
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, kept.seq + 1, "truncated")


def test_a_rewritten_suffix_is_named(stack, tenant):
    """Attack (c): everything from entry 6 on replaced by other entries (two more than before)."""
    tenant_id, owner = tenant
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    tables, chain = sealed(stack, trail)
    start = 5  # seq 6
    template = chain[start][1]
    replacements = [dataclasses.replace(template, action="members.remove", resource_id=f"r{n}")
                    for n in range(len(chain) - start + 2)]
    forge_from(tables, trail, chain, start, replacements)
    verdict = verify(owner)
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, 6, "rewritten")


def test_the_platform_chain_is_anchored_too(stack, world):
    trail = AuditTrail.platform()
    create_tenant(stack, world.admin)  # a fresh platform entry, sealed and checkpointed
    tables, chain = sealed(stack, trail)
    last_id, last = chain[-1]
    kept = last.to_row()
    tables.delete_row(trail.database_id, trail.table_id, last_id)
    before = chain[-2][1]
    tables.update_row(trail.database_id, HEAD_TABLE, HEAD_ROW, {"seq": before.seq, "hash": before.hash})
    try:
        verdict = verify(world.admin, "/platform/verify")
        assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, last.seq, "truncated")
    finally:
        tables.create_row(trail.database_id, trail.table_id, last_id, kept)
        tables.update_row(trail.database_id, HEAD_TABLE, HEAD_ROW, {"seq": last.seq, "hash": last.hash})
    assert verify(world.admin, "/platform/verify")["ok"] is True


def test_a_planted_checkpoint_is_named(stack, tenant):
    tenant_id, owner = tenant
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    tables, chain = sealed(stack, trail)
    tables.create_row("core", CHECKPOINT_TABLE, f"planted{unique_suffix()}", {
        "chain": trail.chain_id, "seq": 2, "hash": chain[1][1].hash, "from_seq": 2, "hashes": chain[1][1].hash,
        "signed_at": "2026-01-01T00:00:00.000+00:00", "key_id": "0" * 16,
        "signature": base64.b64encode(b"x" * 64).decode()})
    verdict = verify(owner)
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["reason"]) == (False, 2, "bad_checkpoint")


def test_an_exported_trail_verifies_offline_with_only_the_public_key(stack, tenant, tmp_path):
    tenant_id, owner = tenant
    exported = owner.call("audit", "GET", "/export?format=json")
    checkpoints = owner.call("audit", "GET", "/checkpoints/export")
    assert exported.status == 200 and checkpoints.status == 200, (exported, checkpoints)
    assert checkpoints.body["chain"] == f"tenant_{tenant_id}/audit" and checkpoints.body["checkpoints"]
    public_key = owner.call("audit", "GET", "/public-key").body["keys"][0]["public_key"]
    trail_file, checkpoints_file = tmp_path / "trail.json", tmp_path / "checkpoints.json"
    trail_file.write_text(exported.raw)
    checkpoints_file.write_text(checkpoints.raw)

    def offline(*extra: str) -> tuple[int, dict]:
        done = subprocess.run(
            [sys.executable, "-m", "bigtech.audit.offline", "--trail", str(trail_file), "--checkpoints",
             str(checkpoints_file), *extra], capture_output=True, text=True, timeout=60, cwd=tmp_path,
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO_ROOT / "shared")})  # no keys in env
        return done.returncode, json.loads(done.stdout) if done.stdout else {"stderr": done.stderr}

    code, report = offline("--public-key", public_key)
    assert code == 0 and report["ok"] is True and report["anchored_seq"] == report["head_seq"], report

    data = json.loads(exported.raw)
    data["entries"][2]["actor"] = "mallory"  # and every later hash recomputed, as a careful forger would
    entries = [AuditEntry.from_row(e) for e in data["entries"]]
    for index in range(2, len(entries)):
        prev = entries[index - 1]
        entries[index] = dataclasses.replace(entries[index], seq=0, hash="").seal_after(prev.seq, prev.hash)
        data["entries"][index].update(prev_hash=entries[index].prev_hash, hash=entries[index].hash)
    trail_file.write_text(json.dumps(data))
    code, report = offline("--public-key", public_key)
    assert (code, report["first_bad_seq"], report["reason"]) == (1, 3, "rewritten"), report


def test_without_a_signing_key_nothing_is_signed_and_verify_says_unanchored(stack, world, monkeypatch, tmp_path,
                                                                           caplog):
    tenant_id, _ = create_tenant(stack, world.admin)
    tables = TablesDB(make_client(stack))
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    keys = load_public_keys()
    monkeypatch.chdir(tmp_path)  # no .env to fall back on
    monkeypatch.delenv("BIGTECH_AUDIT_SIGNING_KEY")
    unit = uow.UnitOfWork()
    entry = stage_entry(tables, unit, trail, action="test.unkeyed", actor="tester")
    uow.commit(tables, unit.operations)
    with caplog.at_level("ERROR"):
        seal_quietly(tables, trail, entry.id)
    assert "NOT anchored" in caplog.text and "BIGTECH_AUDIT_SIGNING_KEY is not set" in caplog.text

    unkeyed = verify_trail(tables, trail)  # this deployment has no key at all
    assert (unkeyed.ok, unkeyed.reason) == (False, "unanchored")
    later = verify_trail(tables, trail, keys=keys, now=datetime.now(UTC) + timedelta(minutes=5))
    assert (later.ok, later.reason, later.unanchored) == (False, "unanchored", 1)
    assert later.anchored_seq == later.head_seq - 1


def test_the_schedule_seals_and_anchors_what_was_left(stack, world):
    tenant_id, _ = create_tenant(stack, world.admin)
    tables = TablesDB(make_client(stack))
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    unit = uow.UnitOfWork()
    stage_entry(tables, unit, trail, action="test.left", actor="tester")
    uow.commit(tables, unit.operations)  # no after-commit sealer: neither sealed nor anchored
    assert seal_all(tables, [trail])["sealed"] == 1
    assert verify_trail(tables, trail).unanchored == 1

    execution = make_client(stack).call("post", "/local/functions/billing/schedule",
                                        {"content-type": "application/json"}, {})
    assert execution["status"] == "completed" and execution["responseStatusCode"] == 200, execution
    report = json.loads(execution["responseBody"])
    assert report["audit_checkpointed"] >= 1, report
    assert "audit checkpoints:" in execution["logs"]
    anchored = verify_trail(tables, trail)
    assert anchored.ok and anchored.unanchored == 0 and anchored.anchored_seq == anchored.head_seq
