"""Who subscribes to what: the relay's subscriber registry, read on every run.

Three sources, later ones overriding earlier ones for the same function id:

1. `CORE_SUBSCRIBERS` below — CORE functions with a `POST /events` route (a static list: CORE ships with the relay);
2. the core database's `plugin_catalog` table — each installed plugin's manifest `events` (so a newly installed
   plugin gets its queue on the next relay run, without redeploying the relay; the relay cannot read other
   functions' folders at run time);
3. `BIGTECH_BUS_SUBSCRIBERS` — a JSON object `{"<function id>": ["<pattern>", ...]}` from the relay's variables
   (extra subscribers for an installation, and the tests' recording subscribers); `[]` removes one.

Patterns are AMQP topic patterns over event types: `*` is one word, `#` any number (`payment.*`, `order.#`, `#`).
"""

from __future__ import annotations

import json
import os
from typing import Any

from appwrite.exception import AppwriteException
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.bus.appwrite_rows import QUERY_VALUES_MAX, all_ids, list_raw
from bigtech.bus.patterns import validate_pattern
from bigtech.schema.core import CORE_DATABASE_ID

SUBSCRIBERS_ENV = "BIGTECH_BUS_SUBSCRIBERS"
# function id -> topic patterns of the CORE functions that consume events.
CORE_SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    "billing": ("payment.*",),  # crediting of paid orders (functions/billing/src/crediting.py)
    "ops": ("consulta.*", "credits.*", "payment.*"),  # platform usage and business counters (ops/src/events.py)
}


def subscriber_patterns(tables: TablesDB, functions: Functions | None = None, log: Any = None
                        ) -> dict[str, tuple[str, ...]]:
    """Every subscriber and its patterns. With `functions`, only functions that exist and are enabled in this
    project count (a CORE subscriber not deployed here gets no queue, instead of dead letters)."""
    specs = dict(CORE_SUBSCRIBERS)
    specs.update(plugin_subscribers(tables, log))
    specs.update(env_subscribers(log))
    specs = {name: patterns for name, patterns in sorted(specs.items()) if patterns}
    if functions is None or not specs:
        return specs
    deployed = enabled_functions(functions)
    missing = sorted(set(specs) - deployed)
    if missing:
        _say(log, f"relay: no enabled function for subscriber(s) {', '.join(missing)}; skipped")
    return {name: patterns for name, patterns in specs.items() if name in deployed}


def enabled_functions(functions: Functions) -> set[str]:
    found: set[str] = set()
    cursor = None
    while True:
        queries = [Query.limit(QUERY_VALUES_MAX)] + ([Query.cursor_after(cursor)] if cursor else [])
        page = functions.list(queries).functions
        found.update(f.id for f in page if f.enabled)
        if len(page) < QUERY_VALUES_MAX:
            return found
        cursor = page[-1].id


def plugin_subscribers(tables: TablesDB, log: Any = None) -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    cursor = None
    while True:
        queries = [Query.limit(QUERY_VALUES_MAX)] + ([Query.cursor_after(cursor)] if cursor else [])
        try:
            rows = list_raw(tables, CORE_DATABASE_ID, "plugin_catalog", queries)
        except AppwriteException as error:
            if error.code == 404:  # no core database / catalog yet
                return found
            raise
        for row in rows:
            try:
                events = json.loads(row.get("manifest") or "{}").get("events") or []
                patterns = tuple(validate_pattern(str(p)) for p in events)
            except (ValueError, AttributeError) as error:
                _say(log, f"relay: plugin {row.get('$id')} has unusable events: {error}")
                continue
            function_id = row.get("function_id") or row["$id"]
            if patterns:
                found[function_id] = patterns
        if len(rows) < QUERY_VALUES_MAX:
            return found
        cursor = rows[-1]["$id"]


def env_subscribers(log: Any = None) -> dict[str, tuple[str, ...]]:
    raw = os.environ.get(SUBSCRIBERS_ENV, "").strip()
    if not raw:
        return {}
    try:
        declared = json.loads(raw)
        return {str(name): tuple(validate_pattern(str(p)) for p in patterns) for name, patterns in declared.items()}
    except (ValueError, AttributeError, TypeError) as error:
        _say(log, f"relay: ignoring {SUBSCRIBERS_ENV}: {error}")
        return {}


def tenant_ids(tables: TablesDB) -> list[str]:
    """Every tenant (the core `tenants` table; its row id is the tenant id)."""
    try:
        return all_ids(tables, CORE_DATABASE_ID, "tenants")
    except AppwriteException as error:
        if error.code == 404:
            return []
        raise


def _say(log: Any, message: str) -> None:
    if log is not None:
        log(message)
