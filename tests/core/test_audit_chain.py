"""The audit hash chain, without a stack: hashing, sealing and what verify reports for each tampering."""

import dataclasses
import hashlib
import json

import pytest

from bigtech.audit import GENESIS_HASH, AuditEntry, Head, canonical_json, chain_next, to_csv, verify_entries
from bigtech.audit.chain import normalise_datetime


def build_chain(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    seq, last = 0, None
    for number in range(length):
        entry = chain_next(seq, last, action="members.add", actor=f"user{number}", occurred_at="2026-01-02T03:04:05Z",
                           resource_type="member", resource_id=f"r{number}", details={"role": "viewer", "n": number})
        entries.append(entry)
        seq, last = entry.seq, entry.hash
    return entries


def head_of(entries: list[AuditEntry]) -> Head:
    return Head(entries[-1].seq, entries[-1].hash, True)


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_utf8():
    assert canonical_json({"b": 1, "a": "ção"}) == '{"a":"ção","b":1}'


def test_hash_is_sha256_of_the_canonical_entry_without_hash():
    entry = build_chain(1)[0]
    content = {k: v for k, v in entry.to_row().items() if k != "hash"}
    expected = hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":"),
                                         ensure_ascii=False).encode()).hexdigest()
    assert entry.hash == expected
    assert entry.prev_hash == GENESIS_HASH and entry.seq == 1


def test_datetimes_hash_in_appwrites_stored_form():
    assert normalise_datetime("2026-01-02T03:04:05Z") == "2026-01-02T03:04:05.000+00:00"
    assert normalise_datetime("2026-01-02T01:04:05.5-02:00") == "2026-01-02T03:04:05.500+00:00"
    entry = build_chain(1)[0]
    reread = dataclasses.replace(entry, occurred_at="2026-01-02T03:04:05+00:00")
    assert reread.compute_hash() == entry.hash


def test_intact_chain_verifies():
    entries = build_chain(5)
    result = verify_entries(entries, head_of(entries))
    assert result.ok and result.checked == 5 and result.first_bad_seq is None


def test_empty_chain_verifies():
    assert verify_entries([], Head(0, None, False)).ok


@pytest.mark.parametrize("position", [0, 2, 4])
def test_edited_entry_is_named(position):
    entries = build_chain(5)
    entries[position] = dataclasses.replace(entries[position], actor="mallory")
    result = verify_entries(entries, head_of(build_chain(5)))
    assert (result.ok, result.first_bad_seq, result.reason) == (False, position + 1, "edited")


def test_resealed_edit_breaks_the_next_link():
    entries = build_chain(5)
    forged = dataclasses.replace(entries[1], actor="mallory", hash="")
    entries[1] = dataclasses.replace(forged, hash=forged.compute_hash())
    result = verify_entries(entries, head_of(build_chain(5)))
    assert (result.first_bad_seq, result.reason) == (3, "broken_link")


@pytest.mark.parametrize("position", [0, 2, 3])
def test_deleted_entry_is_named(position):
    entries = build_chain(5)
    head = head_of(entries)
    del entries[position]
    result = verify_entries(entries, head)
    assert (result.first_bad_seq, result.reason) == (position + 1, "missing")


def test_truncated_tail_is_caught_by_the_head():
    entries = build_chain(5)
    result = verify_entries(entries[:3], head_of(entries))
    assert (result.first_bad_seq, result.reason) == (4, "missing")


def test_swapped_sequence_numbers_are_named():
    entries = build_chain(5)
    a, b = entries[1], entries[2]
    swapped = [entries[0], dataclasses.replace(b, seq=2), dataclasses.replace(a, seq=3), *entries[3:]]
    result = verify_entries(swapped, head_of(entries))
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_rows_listed_out_of_order_are_named():
    entries = build_chain(4)
    result = verify_entries([entries[0], entries[2], entries[1], entries[3]], head_of(entries))
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_head_pointing_elsewhere_is_named():
    entries = build_chain(3)
    result = verify_entries(entries, Head(3, "f" * 64, True))
    assert (result.first_bad_seq, result.reason) == (3, "head_mismatch")


def test_csv_export_has_a_header_and_one_line_per_entry():
    entries = build_chain(3)
    lines = to_csv(entries).strip().splitlines()
    assert lines[0].startswith("seq,prev_hash,hash,action,actor")
    assert len(lines) == 4 and lines[1].startswith("1," + GENESIS_HASH)


def test_csv_export_neutralises_formulas():
    entry = chain_next(0, None, action="members.add", actor="=cmd()", occurred_at="2026-01-01T00:00:00Z")
    assert ",'=cmd()," in to_csv([entry])
