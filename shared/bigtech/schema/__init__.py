"""One declarative schema for the core database and every tenant database.

``core.CORE_SCHEMA`` and ``tenant.TENANT_SCHEMA`` declare the tables; ``provision.provision`` makes a
database match a declaration; ``appwrite_json.core_entries`` renders the core database for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import exports

if TYPE_CHECKING:
    from .core import CORE_DATABASE_ID, CORE_SCHEMA
    from .model import Column, DatabaseSchema, Index, Table
    from .provision import ProvisionReport, provision, provision_core, provision_tenant
    from .tenant import TENANT_SCHEMA, tenant_database_id

# Imported on first use (PEP 562): every request needs ``tenant_database_id``; the provisioner only
# ``invoke migrate`` and tenant creation.
_EXPORTS = {
    "CORE_DATABASE_ID": ".core",
    "CORE_SCHEMA": ".core",
    "Column": ".model",
    "DatabaseSchema": ".model",
    "Index": ".model",
    "Table": ".model",
    "ProvisionReport": ".provision",
    "provision": ".provision",
    "provision_core": ".provision",
    "provision_tenant": ".provision",
    "TENANT_SCHEMA": ".tenant",
    "tenant_database_id": ".tenant",
}
__getattr__ = exports(__name__, _EXPORTS)

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
