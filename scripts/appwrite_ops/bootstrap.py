"""``invoke bootstrap``: prepare an Appwrite project for Bigtech through the API alone.

Idempotent and safe to rerun against production: it only creates what is missing and never deletes
or overwrites data. Steps, in order:

1. **functions** of ``appwrite.json`` that the project lacks are created *without code* (creating a
   function with ``appwrite push`` needs a console login; with an API key it does not), so
   ``appwrite push functions`` then only updates them and uploads deployments;
2. **variables**: every ``BIGTECH_*`` setting of the process environment (never ``.env``; minus
   operator-only ones) is set on every function as a function variable (secret when it looks like
   one); a plain variable is updated when its value differs, an existing secret is kept;
3. **core database** and its tables (``bigtech.schema.provision_core``, the dev seed's step) and the
   migrations ledger;
4. **platform settings**: the ``platform`` row with the defaults, only when missing;
5. **platform admin**: the user ``BIGTECH_ADMIN_EMAIL`` gets the ``admin`` label (created with
   ``BIGTECH_ADMIN_PASSWORD`` when missing and a password is given).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from appwrite.client import Client
from appwrite.exception import AppwriteException
from appwrite.id import ID
from appwrite.query import Query
from appwrite.services.tables_db import TablesDB
from appwrite.services.users import Users
from dev_seed.admin import ADMIN_LABEL, ensure_platform_admin

from bigtech import platform_settings
from bigtech.schema.core import CORE_DATABASE_ID
from bigtech.schema.migrations import ensure_ledger
from bigtech.schema.provision import provision_core

from .target import REPO_ROOT, OpsError, Target, call

# Settings that configure the operator's own tools, never the functions.
OPERATOR_ONLY = frozenset({
    "BIGTECH_DATA_DIR", "BIGTECH_ADMIN_EMAIL", "BIGTECH_ADMIN_PASSWORD", "BIGTECH_FUNCTIONS_MODE",
    "BIGTECH_PYTHON", "BIGTECH_APPWRITE_CLI_VERSION", "BIGTECH_APPWRITE_CLI", "BIGTECH_APPWRITE_SPEC",
    "BIGTECH_WHEELHOUSE", "BIGTECH_FUNCTION_INSTANCES", "BIGTECH_SMOKE_OWNER_EMAIL",
})
SECRET_HINTS = ("KEY", "SECRET", "PASSWORD", "TOKEN", "URL")
FUNCTION_KEYS = ("name", "runtime", "execute", "events", "schedule", "timeout", "enabled", "logging",
                 "entrypoint", "commands", "scopes", "specification")

Say = Callable[[str], None]


def project_functions() -> list[dict[str, Any]]:
    return json.loads((REPO_ROOT / "appwrite.json").read_text(encoding="utf-8")).get("functions", [])


def function_variables(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    env = os.environ if environ is None else environ
    return {k: v for k, v in sorted(env.items()) if k.startswith("BIGTECH_") and k not in OPERATOR_ONLY and v}


def ensure_functions(client: Client, entries: list[dict[str, Any]], say: Say) -> list[str]:
    created = []
    for entry in entries:
        function_id = entry["$id"]
        try:
            call(client, "get", f"/functions/{function_id}")
            continue
        except AppwriteException as error:
            if error.code != 404:
                raise
        params = {"functionId": function_id, **{k: entry[k] for k in FUNCTION_KEYS if k in entry}}
        call(client, "post", "/functions", params)
        created.append(function_id)
        say(f"function {function_id}: created (no code yet: run invoke deploy)")
    return created


def ensure_variables(client: Client, function_ids: list[str], values: dict[str, str], say: Say,
                     overwrite_secrets: bool = False) -> int:
    """Create missing variables; update plain ones whose value differs. A secret's value cannot be read
    back, so an existing secret is kept unless ``overwrite_secrets`` (replacing e.g. BIGTECH_SECRETS_KEY
    by mistake would make every stored plugin secret unreadable)."""
    changed, kept = 0, set()
    for function_id in function_ids:
        existing = {v["key"]: v for v in call(client, "get", f"/functions/{function_id}/variables",
                                               {"queries": [Query.limit(100)]}).get("variables", [])}
        for key, value in values.items():
            secret = any(hint in key for hint in SECRET_HINTS)
            current = existing.get(key)
            if current is None:
                call(client, "post", f"/functions/{function_id}/variables",
                     {"variableId": ID.unique(), "key": key, "value": value, "secret": secret})
            elif current.get("secret") and not overwrite_secrets:
                kept.add(key)
                continue
            elif current.get("secret") or current.get("value") != value:
                call(client, "put", f"/functions/{function_id}/variables/{current['$id']}",
                     {"key": key, "value": value, "secret": secret})
            else:
                continue
            changed += 1
    if changed:
        say(f"variables: {changed} set on {len(function_ids)} function(s) ({', '.join(values)})")
    if kept:
        say(f"variables: existing secrets kept ({', '.join(sorted(kept))}); --overwrite-secrets replaces them")
    return changed


def ensure_platform_settings(client: Client, say: Say) -> bool:
    tables = TablesDB(client)
    _settings, exists = platform_settings.load(tables)
    if exists:
        return False
    try:
        tables.create_row(CORE_DATABASE_ID, platform_settings.SETTINGS_TABLE, platform_settings.SETTINGS_ROW,
                          {"value": platform_settings.PlatformSettings().model_dump_json()})
    except AppwriteException as error:
        if error.code != 409:  # created meanwhile: keep theirs
            raise
        return False
    say("platform settings: defaults written")
    return True


def ensure_admin(client: Client, email: str, password: str, say: Say) -> None:
    if not email:
        say("platform admin: BIGTECH_ADMIN_EMAIL not set, skipped")
        return
    if password:
        user_id, created = ensure_platform_admin(client, email, password)
        say(f"platform admin: {email} ({'created' if created else 'labelled'}, user {user_id})")
        return
    users = Users(client)
    found = users.list(queries=[Query.equal("email", [email]), Query.limit(1)]).users
    if not found:
        raise OpsError(f"No user {email}: create it (or set BIGTECH_ADMIN_PASSWORD to let bootstrap create it).")
    user = found[0]
    if ADMIN_LABEL not in (user.labels or []):
        users.update_labels(user.id, [*(user.labels or []), ADMIN_LABEL])
    say(f"platform admin: {email} has the {ADMIN_LABEL!r} label")


def bootstrap(target: Target, environ: Mapping[str, str] | None = None, say: Say = print,
              overwrite_secrets: bool = False) -> None:
    env = os.environ if environ is None else environ
    client = target.client()
    entries = project_functions()
    ensure_functions(client, entries, say)
    ensure_variables(client, [e["$id"] for e in entries], function_variables(env), say, overwrite_secrets)
    report = provision_core(TablesDB(client))  # the same provisioning the dev seed runs
    say(f"core database: {'created' if report.database_created else 'updated' if report.changed else 'up to date'}")
    ensure_ledger(TablesDB(client))
    ensure_platform_settings(client, say)
    ensure_admin(client, env.get("BIGTECH_ADMIN_EMAIL", ""), env.get("BIGTECH_ADMIN_PASSWORD", ""), say)
    say("bootstrap done: now invoke deploy, then invoke migrate")
