"""``python -m bigtech.ops backup|restore|list`` against the stack named by ``APPWRITE_ENDPOINT``
(``APPWRITE_PROJECT_ID``, ``APPWRITE_API_KEY``); ``invoke backup`` and ``invoke restore`` call this."""

from __future__ import annotations

import argparse
import json
import os
import sys

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

from ..schema.core import CORE_DATABASE_ID
from ..schema.tenant import tenant_database_id
from .backup import list_backups
from .restore import RestoreRefused, restore_core, restore_tenant
from .schedule import run_backups
from .store import BackupStore, BackupStoreMissing


def _tables() -> TablesDB:
    missing = [n for n in ("APPWRITE_ENDPOINT", "APPWRITE_PROJECT_ID", "APPWRITE_API_KEY") if not os.environ.get(n)]
    if missing:
        raise SystemExit(f"set {', '.join(missing)} (the stack to back up or restore)")
    client = Client().set_endpoint(os.environ["APPWRITE_ENDPOINT"]).set_project(os.environ["APPWRITE_PROJECT_ID"])
    return TablesDB(client.set_key(os.environ["APPWRITE_API_KEY"]))


def _exists(tables: TablesDB, database_id: str) -> bool:
    try:
        tables.get(database_id)
    except Exception:
        return False
    return True


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bigtech.ops")
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser("backup", help="back up the core and every tenant, or one tenant")
    backup.add_argument("--tenant")
    backup.add_argument("--full", action="store_true", help="a full backup even if an incremental would do")
    restore = commands.add_parser("restore", help="restore a tenant's database, or the core database")
    which = restore.add_mutually_exclusive_group(required=True)
    which.add_argument("--tenant")
    which.add_argument("--core", action="store_true", help="the core database (docs/operations.md, runbook)")
    restore.add_argument("--backup", help="backup id (default: the latest)")
    restore.add_argument("--to", help="restore into tenant_<TO> (with --core: the database id TO) instead")
    restore.add_argument("--yes", action="store_true", help="confirm replacing an existing database")
    restore.add_argument("--dry-run", action="store_true", help="verify the backup and report; write nothing")
    listing = commands.add_parser("list", help="a tenant's (or the core's) backups")
    listed = listing.add_mutually_exclusive_group(required=True)
    listed.add_argument("--tenant")
    listed.add_argument("--core", action="store_true")
    args = parser.parse_args(argv)
    try:
        store = BackupStore.from_env()
    except BackupStoreMissing as error:
        raise SystemExit(str(error)) from None
    if args.command == "list":
        print("\n".join(list_backups(store, CORE_DATABASE_ID if args.core else tenant_database_id(args.tenant))))
        return 0
    tables = _tables()
    if args.command == "backup":
        report = run_backups(tables, store, tenant=args.tenant, full=args.full, progress=_progress)
        print(json.dumps(report.to_json(), indent=2))
        return 1 if report.errors else 0
    target = (args.to or CORE_DATABASE_ID) if args.core else tenant_database_id(args.to or args.tenant)
    if not args.dry_run and not args.yes and _exists(tables, target):
        answer = input(f"{target} exists; replace it with the backup? [y/N] ")
        args.yes = answer.strip().lower() in {"y", "yes"}
    try:
        if args.core:
            result = restore_core(tables, store, backup_id=args.backup, to_database_id=args.to, replace=args.yes,
                                  dry_run=args.dry_run, progress=_progress)
        else:
            result = restore_tenant(tables, store, args.tenant, backup_id=args.backup, to_tenant_id=args.to,
                                    replace=args.yes, dry_run=args.dry_run, progress=_progress)
    except RestoreRefused as refused:
        print(f"restore refused: {refused.reason}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
