"""Who subscribes to what: the relay's subscriber registry, read on every run.

Three sources, later ones overriding earlier ones for the same function id:

1. `CORE_SUBSCRIBERS` below — CORE functions with a `POST /events` route (a static list: CORE ships with the relay);
2. the core database's `plugin_catalog` table — each installed plugin's manifest `events` (so a newly installed
   plugin gets its queue on the next relay run, without redeploying the relay; the relay cannot read other
   functions' folders at run time);
3. `BIGTECH_BUS_SUBSCRIBERS` — a JSON object `{"<function id>": ["<pattern>", ...]}` from the relay's variables
   (extra subscribers for an installation, and the tests' recording subscribers); `[]` removes one.

Patterns are AMQP topic patterns over event types: `*` is one word, `#` any number (`payment.*`, `order.#`, `#`).

What the API answers (the plugin catalog's subscribers, the enabled functions) is kept as plain data in the warm
worker for `REGISTRY_TTL_ENV` seconds (default `DEFAULT_REGISTRY_TTL`; 0 turns it off), so most runs read no
registry at all. The staleness that buys: a plugin installed (or a function enabled) is seen by runs that start
within that time after the cached read; events those runs settle reach only the subscribers they knew, as
events published before an install always did. A subscriber removed or disabled within that time gets
deliveries that fail and are retried or dead-lettered as any failing subscriber's. Never the client: each run
builds its own.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
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


REGISTRY_TTL_ENV = "BIGTECH_RELAY_REGISTRY_TTL"
DEFAULT_REGISTRY_TTL = 30.0


@dataclass(frozen=True)
class _Known:
    """What the API said, when (monotonic seconds); `deployed` is None when it was not asked."""

    at: float
    plugins: dict[str, tuple[str, ...]]
    deployed: frozenset[str] | None


_cache: dict[tuple[str, str], _Known] = {}  # (endpoint, project) -> what its API said; plain data only
_cache_lock = threading.Lock()


def registry_ttl() -> float:
    raw = os.environ.get(REGISTRY_TTL_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_REGISTRY_TTL
    except ValueError:
        return DEFAULT_REGISTRY_TTL


def _known(tables: TablesDB, functions: Functions | None, log: Any) -> _Known:
    """The API's half of the registry, from the warm worker's copy while it is younger than the TTL."""
    client = tables.client
    key = (str(getattr(client, "_endpoint", "")), str(client.get_config("project") or ""))
    ttl, now = registry_ttl(), time.monotonic()
    with _cache_lock:
        known = _cache.get(key)
    if known is not None and now - known.at < ttl and (functions is None or known.deployed is not None):
        return known
    plugins = plugin_subscribers(tables, log)
    deployed = frozenset(enabled_functions(functions)) if functions is not None else None
    known = _Known(now, plugins, deployed)
    if ttl > 0:
        with _cache_lock:
            _cache[key] = known
    return known


def subscriber_patterns(tables: TablesDB, functions: Functions | None = None, log: Any = None
                        ) -> dict[str, tuple[str, ...]]:
    """Every subscriber and its patterns. With `functions`, only functions that exist and are enabled in this
    project count (a CORE subscriber not deployed here gets no queue, instead of dead letters)."""
    known = _known(tables, functions, log)
    specs = dict(CORE_SUBSCRIBERS)
    specs.update(known.plugins)
    specs.update(env_subscribers(log))
    specs = {name: patterns for name, patterns in sorted(specs.items()) if patterns}
    if known.deployed is None or not specs:
        return specs
    deployed = known.deployed
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
