"""One declarative schema for the core database and every tenant database.

``core.CORE_SCHEMA`` and ``tenant.TENANT_SCHEMA`` declare the tables; ``provision.provision`` makes a
database match a declaration; ``appwrite_json.core_entries`` renders the core database for the CLI.
"""

from .core import CORE_DATABASE_ID, CORE_SCHEMA
from .model import Column, DatabaseSchema, Index, Table
from .provision import ProvisionReport, provision, provision_core, provision_tenant
from .tenant import TENANT_SCHEMA, tenant_database_id

__all__ = [
    "CORE_DATABASE_ID",
    "CORE_SCHEMA",
    "TENANT_SCHEMA",
    "Column",
    "DatabaseSchema",
    "Index",
    "ProvisionReport",
    "Table",
    "provision",
    "provision_core",
    "provision_tenant",
    "tenant_database_id",
]
