"""The platform's own database, ``core`` (docs/deploy.md, "Core database"; `invoke schema` prints it)."""

from __future__ import annotations

from ..schema_constants import CORE_DATABASE_ID as CORE_DATABASE_ID
from ..schema_constants import OUTBOX_PENDING_TABLE, PLUGIN_TYPES, TENANT_STATUSES, WORK_PENDING_TABLE
from .model import DatabaseSchema, Table, boolean, datetime_, enum, integer, key_index, string, text, unique_index
from .tenant import AUDIT, AUDIT_HEAD

TENANTS = Table(
    "tenants", "Tenants",
    (
        string("name", 128, required=True),
        enum("status", TENANT_STATUSES, required=True),
        string("owner_user_id", 36),
        string("team_id", 36, required=True),
        string("database_id", 64, required=True),
        text("settings", 16384),
        string("created_by", 64),
        string("provisioning", 16),  # provisioning | active | failed; none = provisioned before the column
        text("provisioning_error", 1024),
    ),
    (key_index("status"),),
    "Row id = tenant id = team id; database_id = tenant_<id>; provisioning runs asynchronously after create.",
)

PLUGIN_CATALOG = Table(
    "plugin_catalog", "Plugin catalog",
    (
        enum("type", PLUGIN_TYPES, required=True),
        string("name", 128, required=True),
        string("version", 32, required=True),
        string("function_id", 64, required=True),
        string("category", 32),
        text("manifest", 65535),
    ),
    (key_index("type"),),
    "Synced from the plugins' manifests; row id = plugin id (`fonte/sandbox` → `fonte-sandbox`).",
)

SETTINGS = Table(
    "settings", "Platform settings",
    (text("value", 65535),),
    (),
    "One row, `platform`: a validated JSON document.",
)

API_KEYS = Table(
    "api_keys", "API keys",
    (
        string("key_hash", 64, required=True),
        string("tenant_id", 36, required=True),
        string("client_name", 128, required=True),
        string("prefix", 16),
        boolean("revoked", default=False),
        # mercado-atacado (docs/mercado.md): what the key may do, where from, until when, what it spends
        text("scopes", 2048),
        text("ip_allowlist", 4096),
        string("environment", 8),
        string("tier", 32),
        integer("rate_limit_per_minute", min=1),
        integer("rate_limit_per_day", min=1),
        string("wallet_id", 36),
        string("created_by", 64),
        datetime_("expires_at"),
        datetime_("last_used_at"),
        datetime_("revoked_at"),
        datetime_("rotated_at"),
        text("webhook_secret", 1024),  # sealed (AES-GCM, bigtech.secrets_box): signs async callbacks
        string("key_id", 36),  # the public id; the row id is derived from key_hash (moves on rotation)
        datetime_("created_at"),  # kept when the row moves
        integer("minute_slots", default=0, min=0),  # the per-minute counter (minute * 10^6 + requests)
    ),
    (unique_index("key_hash"), key_index("tenant_id"), unique_index("key_id")),
    "mercado-atacado's API keys: only an HMAC of the key is stored (key_hash), with a display prefix. Row id "
    "derived from key_hash, so one increment on it both finds the key and counts its minute (docs/mercado.md).",
)

PLATFORM_USAGE = Table(
    "platform_usage", "Platform usage",
    (
        string("tenant_id", 36, required=True),
        string("period", 7, required=True),
        string("category", 32, required=True),
        integer("count", default=0),
        integer("credits", default=0),
        integer("amount_cents", default=0),  # payments:<outcome> rows (bigtech.ops.usage_events)
    ),
    (unique_index("tenant_id", "period", "category"),),
)

PROVIDER_HEALTH = Table(
    "provider_health", "Provider health",
    (
        string("tenant_id", 64, required=True),
        string("fonte", 64, required=True),
        string("query", 32, required=True),
        string("minute", 16, required=True),  # UTC, "YYYY-MM-DDTHH:MM"
        integer("calls", default=0, min=0),
        integer("successes", default=0, min=0),
        integer("billable", default=0, min=0),
        integer("errors", default=0, min=0),
        integer("latency_ms_total", default=0, min=0),
    ),
    (unique_index("tenant_id", "fonte", "query", "minute"), key_index("tenant_id", "fonte", "minute")),
    "Per-minute counters of every fonte call made by consultas (bigtech.plugins.health): provider health "
    "metrics and the fallback's circuit breaker. Row id = hash of (tenant, fonte, query, minute).",
)

OUTBOX_PENDING = Table(
    OUTBOX_PENDING_TABLE, "Pending outbox markers",
    (string("tenant_id", 36, required=True),),
    (key_index("tenant_id"),),
    "Row id = event id: written in the same transaction as the tenant's outbox row, deleted by the relay once "
    "the row is no longer pending. The relay's schedule visits only the tenants named here (docs/events.md).",
)

WORK_PENDING = Table(
    WORK_PENDING_TABLE, "Tenants with work for a sweep",
    (
        string("database_id", 64, required=True),  # the tenant's database
        string("kind", 16, required=True),  # "credits" (a hold and its claim) or "audit" (an unsealed entry)
    ),
    (key_index("kind"),),
    "One row per unit of work a scheduled sweep may have to finish (billing's reaper, the audit sweep), "
    "written in the same transaction as the row that makes the work; the sweeps visit only the tenants named "
    "here and delete the rows once the tenant is done (bigtech.sweeps, docs/credits-consultas-plugins.md).",
)

PLATFORM_AUDIT = Table("platform_audit", "Platform audit trail", AUDIT.columns, AUDIT.indexes, AUDIT.description)

AUDIT_CHECKPOINTS = Table(
    "audit_checkpoints", "Audit checkpoints",
    (
        string("chain", 128, required=True),  # "<database id>/<table id>" of the chain
        integer("seq", required=True, min=1),
        string("hash", 64, required=True),
        integer("from_seq", required=True, min=1),
        text("hashes", 6400),  # the covered entries' hashes, concatenated (at most 100 x 64)
        datetime_("signed_at", required=True),
        string("key_id", 16, required=True),
        string("signature", 128, required=True),
    ),
    (key_index("chain", "seq"),),
    "Ed25519-signed statements of each audit chain's sealed head (bigtech.audit.anchoring); the signing key "
    "is a project variable, never a row. Row id derived from (chain, seq).",
)

METRICS = Table(
    "metrics", "Metrics counters",
    (
        string("name", 64, required=True),
        string("labels", 512),  # canonical JSON of the label set
        string("minute", 16, required=True),  # "2026-12-01T12:07" (UTC): the bucket
        integer("value", default=0),
    ),
    (key_index("minute"),),
    "Counters bucketed by minute (bigtech.metrics), moved only by atomic increments; row id derived from "
    "(name, labels, minute). The metrics function sums them for Prometheus.",
)

CORE_SCHEMA = DatabaseSchema(
    (TENANTS, PLUGIN_CATALOG, SETTINGS, API_KEYS, PLATFORM_USAGE, PLATFORM_AUDIT, AUDIT_HEAD, AUDIT_CHECKPOINTS,
     PROVIDER_HEALTH, OUTBOX_PENDING, WORK_PENDING, METRICS)
)
