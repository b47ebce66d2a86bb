"""The ids and value lists code needs at run time, without the table declarations (``bigtech.schema``).

Every request reads a tenant's database id and the core database id; declaring every table (``model``)
to get them would cost each cold start a few milliseconds. ``schema.core``/``schema.tenant`` re-export
these, so either import works; code on a request path imports them from here.
"""

from __future__ import annotations

CORE_DATABASE_ID = "core"
TENANT_STATUSES = ("active", "suspended")
PLUGIN_TYPES = ("fonte", "consulta", "pagamento", "mercado", "funcional")
OUTBOX_PENDING_TABLE = "outbox_pending"
WORK_PENDING_TABLE = "work_pending"

LEDGER_TYPES = ("grant", "purchase", "hold", "debit", "release", "refund", "chargeback")
CATEGORIES = ("credito", "cadastral", "veicular")
CONSULTA_STATUSES = ("pending", "succeeded", "not_found", "failed")
LEGAL_BASES = (
    "consentimento", "obrigacao_legal", "execucao_contrato", "exercicio_direitos", "protecao_vida",
    "tutela_saude", "interesse_legitimo", "protecao_credito", "politicas_publicas", "pesquisa",
)


def tenant_database_id(tenant_id: str) -> str:
    return f"tenant_{tenant_id}"
