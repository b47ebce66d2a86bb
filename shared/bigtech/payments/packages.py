"""Credit packages of a tenant (its ``packages`` table) and the defaults a new tenant starts with.

Shared (not in ``functions/billing``) so the ``tenants`` function can seed them when it creates a
tenant; ``billing`` also seeds them lazily for a tenant that has none.
"""

from __future__ import annotations

from typing import Any

from appwrite.exception import AppwriteException
from appwrite.services.tables_db import TablesDB

from .. import platform_settings
from ..appwrite_access import is_unique_violation
from ..platform_settings import PlatformSettings

TABLE = "packages"
# (row id, name, credits): prices come from the platform's credit value when they are created.
DEFAULT_PACKAGES: tuple[tuple[str, str, int], ...] = (
    ("pkg-50", "Pacote 50 créditos", 50),
    ("pkg-100", "Pacote 100 créditos", 100),
    ("pkg-500", "Pacote 500 créditos", 500),
    ("pkg-1000", "Pacote 1000 créditos", 1000),
)


def default_rows(settings: PlatformSettings) -> list[tuple[str, dict[str, Any]]]:
    return [(row_id, {"name": name, "credits": credits, "price_cents": credits * settings.credit_value_cents,
                      "active": True}) for row_id, name, credits in DEFAULT_PACKAGES]


def ensure_default_packages(tables: TablesDB, database_id: str, settings: PlatformSettings | None = None) -> list[str]:
    """Create the default packages that are missing; returns the ids created. Idempotent and
    concurrency-safe (fixed row ids: a second creator gets 409, which is the state it wanted)."""
    settings = settings or platform_settings.load(tables)[0]
    made = []
    for row_id, data in default_rows(settings):
        try:
            tables.create_row(database_id, TABLE, row_id, data)
            made.append(row_id)
        except AppwriteException as error:
            if not is_unique_violation(error):
                raise
    return made


__all__ = ["DEFAULT_PACKAGES", "TABLE", "default_rows", "ensure_default_packages"]
