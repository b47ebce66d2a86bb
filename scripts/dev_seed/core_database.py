"""The platform's core database (tenants, plugin catalog, settings…), provisioned before anything else.

Safe on every start: provisioning only adds what the declared schema has and the database lacks.
"""

from __future__ import annotations

from appwrite.client import Client
from appwrite.services.tables_db import TablesDB

from bigtech.schema import provision_core

from .settings import SeedSettings


def seed(client: Client, settings: SeedSettings) -> list[str]:
    report = provision_core(TablesDB(client))
    state = "created" if report.database_created else ("updated" if report.changed else "up to date")
    return [f"core database    {state}"]
