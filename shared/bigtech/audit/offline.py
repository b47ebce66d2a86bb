"""Verify an exported audit trail offline, with only the public key.

    python -m bigtech.audit.offline --trail trail.json --checkpoints checkpoints.json --public-key KEY
    invoke audit-verify --trail trail.json --checkpoints checkpoints.json --public-key KEY

``--trail`` is ``GET /audit/export?format=json`` (or the CSV of ``GET /audit/export``);
``--checkpoints`` is ``GET /audit/checkpoints/export``; ``--public-key`` is the base64 Ed25519 public key
obtained from the platform out of band (``GET /audit/public-key``, the docs), repeatable after a key
rotation, or ``@file`` to read it from a file. Nothing in the exported files is trusted: the keys
inside them are not read, every checkpoint must verify with a key given on the command line.

The chain is walked exactly as ``GET /verify`` walks it, without the head row (not exported): the
checkpoints stand for it. Prints the result as JSON; exit status 0 when ok, 1 when not, 2 on bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from .chain import AuditEntry
from .checkpoints import Anchor, Checkpoint
from .export import from_csv
from .signing import BadPublicKey, PublicKeys
from .verify import VerifyResult, verify_entries


class BadExport(ValueError):
    """A file that is not an export this module understands."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise BadExport(f"{path}: not readable JSON ({error})") from None


def load_trail(path: Path) -> tuple[str | None, list[AuditEntry]]:
    """(chain id if the file says, entries) from a JSON or CSV trail export."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadExport(f"{path}: not readable ({error})") from None
    if not text.lstrip().startswith(("{", "[")):
        return None, from_csv(text)
    data = _read_json(path)
    rows = data.get("entries") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise BadExport(f"{path}: expected {{'entries': [...]}} from GET /export?format=json")
    chain = data.get("chain") if isinstance(data, dict) else None
    return (str(chain) if chain else None), [AuditEntry.from_row(row) for row in rows]


def load_checkpoints(path: Path) -> tuple[str, str | None, list[Checkpoint]]:
    """(chain id, exported_at, checkpoints) from a checkpoints export."""
    data = _read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("checkpoints"), list) or not data.get("chain"):
        raise BadExport(f"{path}: expected {{'chain': ..., 'checkpoints': [...]}} from GET /checkpoints/export")
    checkpoints = [Checkpoint.from_json(item) for item in data["checkpoints"] if isinstance(item, dict)]
    return str(data["chain"]), data.get("exported_at"), checkpoints


def public_keys(values: list[str]) -> PublicKeys:
    texts = []
    for value in values:
        texts.append(Path(value[1:]).read_text(encoding="utf-8").strip() if value.startswith("@") else value)
    return PublicKeys.from_text(texts)


def verify_export(entries: list[AuditEntry], checkpoints: list[Checkpoint], chain: str, keys: PublicKeys,
                  exported_at: str | None = None) -> VerifyResult:
    """The exported chain held against the exported checkpoints (``exported_at`` plays "now")."""
    sealed = sorted((entry for entry in entries if entry.is_sealed), key=lambda entry: entry.seq)
    anchor = Anchor.build(checkpoints, keys, chain)
    now = datetime.fromisoformat(exported_at.replace("Z", "+00:00")) if exported_at else None
    result = verify_entries(sealed, None, anchor, now=now)
    unsealed = len(entries) - len(sealed)
    return VerifyResult(result.ok, result.checked, result.first_bad_seq, result.reason,
                        sealed[-1].seq if sealed else 0, unsealed, result.anchored_seq, result.unanchored)


def verify_files(trail: Path, checkpoints: Path, keys: list[str]) -> dict[str, Any]:
    chain, exported_at, found = load_checkpoints(checkpoints)
    trail_chain, entries = load_trail(trail)
    if trail_chain and trail_chain != chain:
        raise BadExport(f"the trail is of chain {trail_chain}, the checkpoints of {chain}")
    result = verify_export(entries, found, chain, public_keys(keys), exported_at)
    return {"chain": chain, **result.to_dict()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bigtech.audit.offline", description=__doc__.split("\n\n")[0])
    parser.add_argument("--trail", required=True, type=Path, help="GET /export?format=json (or the CSV export)")
    parser.add_argument("--checkpoints", required=True, type=Path, help="GET /checkpoints/export")
    parser.add_argument("--public-key", required=True, action="append", dest="keys",
                        help="base64 Ed25519 public key or @file; repeat for rotated keys")
    args = parser.parse_args(argv)
    try:
        report = verify_files(args.trail, args.checkpoints, args.keys)
    except (BadExport, BadPublicKey, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["BadExport", "load_checkpoints", "load_trail", "main", "verify_export", "verify_files"]
