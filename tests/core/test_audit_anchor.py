"""Signed checkpoints, without a stack: what ``verify`` reports when an attacker with database write
access rewrites a chain and recomputes everything they can (every hash, the head), and what it
reports when the anchor itself is missing, planted or deleted."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bigtech.audit import AuditEntry, Head, chain_next, to_csv, verify_entries
from bigtech.audit.checkpoints import Anchor, Checkpoint
from bigtech.audit.export import checkpoints_json, from_csv, trail_json
from bigtech.audit.offline import main as offline_main
from bigtech.audit.offline import verify_export
from bigtech.audit.signing import (
    PublicKeys,
    Signer,
    SigningKeyMissing,
    load_public_keys,
    load_signer,
    new_seed,
    parse_public_key,
)

CHAIN = "tenant_acme/audit"
WHEN = "2026-01-02T03:04:05Z"


def signer() -> Signer:
    return Signer(Ed25519PrivateKey.generate())


def build_chain(length: int, start: list[AuditEntry] | None = None, actor: str = "user") -> list[AuditEntry]:
    entries = list(start or [])
    seq, last = (entries[-1].seq, entries[-1].hash) if entries else (0, None)
    for number in range(length):
        entry = chain_next(seq, last, action="members.add", actor=f"{actor}{number}", occurred_at=WHEN,
                           details={"n": number})
        entries.append(entry)
        seq, last = entry.seq, entry.hash
    return entries


def checkpoints_of(entries: list[AuditEntry], key: Signer, *cuts: int) -> list[Checkpoint]:
    """Checkpoints ending at each seq in ``cuts`` (each from the one before), as the checkpointer writes."""
    made, start = [], 1
    for cut in cuts:
        covered = entries[start - 1:cut]
        made.append(Checkpoint(CHAIN, cut, covered[-1].hash, start, tuple(e.hash for e in covered), WHEN)
                    .signed_by(key))
        start = cut + 1
    return made


def reseal_from(entries: list[AuditEntry], index: int) -> list[AuditEntry]:
    """What an attacker does after changing entries[index:]: recompute every hash and link from there."""
    out = entries[:index]
    for entry in entries[index:]:
        previous = out[-1] if out else None
        out.append(dataclasses.replace(entry, seq=0, hash="").seal_after(previous.seq if previous else 0,
                                                                        previous.hash if previous else None))
    return out


def head_of(entries: list[AuditEntry]) -> Head:
    return Head(entries[-1].seq, entries[-1].hash, True) if entries else Head(0, None, True)


def check(entries, key: Signer, checkpoints, *, keys: PublicKeys | None = None, now=None):
    keys = keys if keys is not None else PublicKeys.of([key.public_key], key.key_id)
    return verify_entries(entries, head_of(entries), Anchor.build(checkpoints, keys, CHAIN),
                          now=now or datetime(2026, 1, 2, 3, 4, 30, tzinfo=UTC))


@pytest.fixture
def key() -> Signer:
    return signer()


def test_an_intact_anchored_chain_verifies(key):
    entries = build_chain(10)
    result = check(entries, key, checkpoints_of(entries, key, 4, 10))
    assert (result.ok, result.checked, result.anchored_seq, result.unanchored) == (True, 10, 10, 0)


@pytest.mark.parametrize("position", [0, 3, 6, 9])
def test_an_edit_with_every_later_hash_and_the_head_recomputed_is_named(key, position):
    """Attack (a): the chain and head are self-consistent again; only the signed hashes disagree."""
    entries = build_chain(10)
    cps = checkpoints_of(entries, key, 4, 10)
    forged = entries[:]
    forged[position] = dataclasses.replace(forged[position], actor="mallory")
    forged = reseal_from(forged, position)
    assert verify_entries(forged, head_of(forged)).ok  # what verify said before checkpoints existed
    result = check(forged, key, cps)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, position + 1, "rewritten")


@pytest.mark.parametrize("keep", [0, 3, 9])
def test_a_deleted_tail_with_the_head_rolled_back_is_named(key, keep):
    """Attack (b): rows keep..10 deleted, the head moved back to the last one kept."""
    entries = build_chain(10)
    cps = checkpoints_of(entries, key, 4, 10)
    result = check(entries[:keep], key, cps)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, keep + 1, "truncated")


def test_a_rewritten_suffix_is_named(key):
    """Attack (c): entries 6..10 replaced by others (and two more appended), all properly chained."""
    entries = build_chain(10)
    cps = checkpoints_of(entries, key, 4, 10)
    forged = build_chain(7, entries[:5], actor="mallory")
    result = check(forged, key, cps)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 6, "rewritten")


def test_entries_after_the_last_checkpoint_are_counted_then_flagged(key):
    entries = build_chain(6)
    cps = checkpoints_of(entries, key, 4)
    fresh = check(entries, key, cps, now=datetime(2026, 1, 2, 3, 4, 30, tzinfo=UTC))
    assert (fresh.ok, fresh.anchored_seq, fresh.unanchored) == (True, 4, 2)
    late = check(entries, key, cps, now=datetime(2026, 1, 2, 3, 30, tzinfo=UTC))
    assert (late.ok, late.reason, late.unanchored) == (False, "unanchored", 2)


def test_without_any_public_key_the_trail_is_unanchored_not_ok(key):
    entries = build_chain(3)
    result = check(entries, key, checkpoints_of(entries, key, 3), keys=PublicKeys({}))
    assert (result.ok, result.reason, result.anchored_seq) == (False, "unanchored", None)


def test_without_checkpoints_an_old_chain_is_unanchored(key):
    entries = build_chain(3)
    result = check(entries, key, [], now=datetime(2026, 2, 1, tzinfo=UTC))
    assert (result.ok, result.reason, result.unanchored) == (False, "unanchored", 3)


def test_a_checkpoint_signed_by_another_key_is_named(key):
    entries = build_chain(6)
    cps = [*checkpoints_of(entries, key, 4), *checkpoints_of(entries, signer(), 6)]
    result = check(entries, key, cps)
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 6, "bad_checkpoint")


def test_a_checkpoint_whose_fields_were_edited_no_longer_verifies(key):
    entries = build_chain(4)
    (good,) = checkpoints_of(entries, key, 4)
    keys = PublicKeys.of([key.public_key])
    assert good.is_valid(keys, CHAIN)
    assert not dataclasses.replace(good, seq=3, hashes=good.hashes[:3], hash=good.hashes[2]).is_valid(keys, CHAIN)
    assert not dataclasses.replace(good, hashes=(entries[0].hash,) * 4).is_valid(keys, CHAIN)
    assert not good.is_valid(keys, "tenant_other/audit")  # a checkpoint copied onto another chain


def test_a_deleted_middle_checkpoint_is_named(key):
    entries = build_chain(9)
    first, _, third = checkpoints_of(entries, key, 3, 6, 9)
    result = check(entries, key, [first, third])
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 4, "checkpoint_missing")


def test_a_deleted_latest_checkpoint_leaves_only_the_earlier_anchor(key):
    """The documented limit: dropping the newest checkpoint moves the anchor back; the entries after it
    are protected by the chain alone until the next checkpoint (or an exported copy) covers them."""
    entries = build_chain(6)
    first, _ = checkpoints_of(entries, key, 3, 6)
    result = check(entries, key, [first])
    assert (result.ok, result.anchored_seq, result.unanchored) == (True, 3, 3)


def test_overlapping_checkpoints_from_racing_checkpointers_agree(key):
    entries = build_chain(6)
    a = checkpoints_of(entries, key, 2, 4)
    b = checkpoints_of(entries, key, 2, 6)
    result = check(entries, key, [*a, *b])
    assert result.ok and result.anchored_seq == 6


def test_checkpoint_rows_round_trip(key):
    entries = build_chain(3)
    (made,) = checkpoints_of(entries, key, 3)
    assert Checkpoint.from_row(made.to_row(), "k1") == dataclasses.replace(made, id="k1")
    assert Checkpoint.from_json(json.loads(json.dumps(made.to_json()))) == made
    assert len(made.to_row()["hashes"]) == 3 * 64


def test_keys_come_from_the_environment_only(key, tmp_path):
    seed = new_seed()
    env = {"BIGTECH_AUDIT_SIGNING_KEY": seed}
    loaded = load_signer(env, tmp_path / ".env")
    assert loaded.key_id == load_signer(env, tmp_path / ".env").key_id  # the same seed, the same key
    with pytest.raises(SigningKeyMissing):
        load_signer({}, tmp_path / ".env")
    with pytest.raises(SigningKeyMissing):
        load_signer({"BIGTECH_AUDIT_SIGNING_KEY": base64.b64encode(b"short").decode()}, tmp_path / ".env")
    rotated = load_public_keys({**env, "BIGTECH_AUDIT_PUBLIC_KEYS": f"{key.public_key_b64},not-base64"},
                               tmp_path / ".env")
    assert set(rotated.keys) == {loaded.key_id, key.key_id} and rotated.current == loaded.key_id
    assert [k["current"] for k in rotated.published()] == [True, False]
    assert parse_public_key(key.public_key_b64)


def test_csv_reads_back_exactly_including_quotes_and_nulls():
    entry = chain_next(0, None, action="members.add", actor="'=cmd()", occurred_at=WHEN, resource_id="-1")
    (back,) = from_csv(to_csv([entry]))
    assert back == entry and back.actor_role is None


def test_the_offline_verifier_checks_exports_with_only_the_public_key(key, tmp_path, capsys):
    entries = build_chain(8)
    cps = checkpoints_of(entries, key, 5, 8)
    trail, checks = tmp_path / "trail.json", tmp_path / "checkpoints.json"
    trail.write_text(json.dumps(trail_json(CHAIN, entries)))
    checks.write_text(json.dumps(checkpoints_json(CHAIN, cps)))
    (tmp_path / "key.pub").write_text(key.public_key_b64 + "\n")
    key_file = "@" + str(tmp_path / "key.pub")
    assert offline_main(["--trail", str(trail), "--checkpoints", str(checks), "--public-key", key_file]) == 0
    assert json.loads(capsys.readouterr().out)["anchored_seq"] == 8

    forged = reseal_from([*entries[:2], dataclasses.replace(entries[2], actor="mallory"), *entries[3:]], 2)
    trail.write_text(json.dumps(trail_json(CHAIN, forged)))
    assert offline_main(["--trail", str(trail), "--checkpoints", str(checks), "--public-key", key.public_key_b64]) == 1
    assert json.loads(capsys.readouterr().out)["first_bad_seq"] == 3

    trail.write_text(json.dumps(trail_json(CHAIN, entries)))
    assert offline_main(["--trail", str(trail), "--checkpoints", str(checks),
                         "--public-key", signer().public_key_b64]) == 1  # someone else's key
    assert json.loads(capsys.readouterr().out)["reason"] == "bad_checkpoint"

    csv_trail = tmp_path / "trail.csv"
    csv_trail.write_text(to_csv(entries[:6]))  # the CSV export, with the tail cut off
    result = verify_export(from_csv(csv_trail.read_text()), cps, CHAIN, PublicKeys.of([key.public_key]),
                           datetime(2026, 1, 2, 3, 5, tzinfo=UTC).isoformat())
    assert (result.ok, result.first_bad_seq, result.reason) == (False, 7, "truncated")

    assert offline_main(["--trail", str(tmp_path / "nope.json"), "--checkpoints", str(checks),
                         "--public-key", key.public_key_b64]) == 2
