"""The tables of every tenant's own database, ``tenant_<id>`` (docs/tenants.md).

Credits are integers. Rows whose identity is natural use it as ``$id`` (a wallet's id is its
user's id, an outbox row's id is its event id), so uniqueness is enforced by Appwrite itself.
"""

from __future__ import annotations

from ..schema_constants import CATEGORIES, CONSULTA_STATUSES, LEDGER_TYPES, LEGAL_BASES
from ..schema_constants import tenant_database_id as tenant_database_id
from .model import (
    DatabaseSchema,
    Table,
    boolean,
    datetime_,
    enum,
    integer,
    key_index,
    string,
    text,
    unique_index,
)

ORDER_STATUSES = ("pending", "paid", "failed", "canceled", "refunded", "chargeback", "partially_refunded", "review")
PAYMENT_METHODS = ("pix", "boleto", "credit_card")
OUTBOX_STATUSES = ("pending", "published", "dead")

WALLETS = Table(
    "wallets", "Wallets",
    (
        string("user_id", 36, required=True),
        integer("balance", default=0),
        integer("held", default=0),
    ),
    (unique_index("user_id"),),
    "One per member; balance moves only by atomic increment/decrement.",
)

LEDGER = Table(
    "ledger", "Ledger",
    (
        string("wallet_id", 36, required=True),
        enum("type", LEDGER_TYPES, required=True),
        integer("amount", required=True),
        string("idempotency_key", 160, required=True),
        string("reference_type", 32),
        string("reference_id", 64),
        string("actor", 64),
        string("reason", 512),
    ),
    (unique_index("idempotency_key"), key_index("wallet_id"), key_index("type"), key_index("reference_id")),
    "Immutable: every balance change, each with an idempotency key.",
)

CONSULTAS = Table(
    "consultas", "Consultas",
    (
        string("user_id", 36, required=True),
        enum("category", CATEGORIES, required=True),
        enum("status", CONSULTA_STATUSES, required=True),
        string("input_masked", 128),
        string("document_hash", 64),
        string("purpose", 512, required=True),
        enum("legal_basis", LEGAL_BASES, required=True),
        integer("cost", default=0),
        string("plugin_id", 64),
        text("result"),
        text("sources", 4096),
        string("error", 1024),
        string("idempotency_key", 160),
        datetime_("completed_at"),
        string("audit_id", 32),
        string("api_key_id", 36),  # mercado-atacado: the key that ran it (user_id is then "apikey:<id>")
        string("price_tier", 32),  # mercado-atacado: the volume band the price came from
        # Appwrite Storage (docs/storage.md): the fontes' own receipts (JSON list of file links, cleared with
        # `result` by retention) and the consulta receipt PDF once generated
        text("source_receipts", 4096),
        string("receipt_file_id", 36),
    ),
    (key_index("user_id"), key_index("category"), key_index("status"), key_index("document_hash"),
     key_index("api_key_id")),
)

ORDERS = Table(
    "orders", "Orders",
    (
        string("user_id", 36, required=True),
        string("package_id", 36, required=True),
        integer("credits", required=True, min=1),
        integer("amount_cents", required=True, min=1),
        enum("method", PAYMENT_METHODS, required=True),
        enum("status", ORDER_STATUSES, required=True),
        string("gateway", 64),
        string("gateway_order_id", 128),
        string("gateway_charge_id", 128),
        text("instructions", 16384),
        string("idempotency_key", 160),
        datetime_("paid_at"),
        # payment checks (docs/payments.md): why an order awaits review, what was paid, what was reversed
        string("review_reason", 64),
        integer("paid_cents", min=0),
        integer("refunded_cents", min=0),
        integer("reversed_credits", min=0),
        string("receipt_file_id", 36),  # the paid order's receipt PDF in the tenant's bucket (docs/storage.md)
    ),
    (key_index("user_id"), key_index("status"), key_index("gateway_order_id"), unique_index("idempotency_key")),
)

PACKAGES = Table(
    "packages", "Credit packages",
    (
        string("name", 128, required=True),
        integer("credits", required=True, min=1),
        integer("price_cents", required=True, min=1),
        boolean("active", default=True),
    ),
)

PLUGINS = Table(
    "plugins", "Plugins of this tenant",
    (
        string("plugin_id", 64, required=True),
        boolean("enabled", default=False),
        text("config", 16384),
        text("secrets", 16384),
        integer("priority", default=100),
        string("version", 32),
    ),
    (unique_index("plugin_id"),),
    "Config is validated against the manifest; secret fields are AES-GCM encrypted in `secrets`.",
)

AUDIT = Table(
    "audit", "Audit trail",
    (
        integer("seq", min=1),  # null while unsealed (bigtech.audit.writer); unique once sealed
        string("prev_hash", 64),
        string("hash", 64),
        string("action", 64, required=True),
        string("actor", 64, required=True),
        string("actor_role", 32),
        string("resource_type", 32),
        string("resource_id", 64),
        text("details", 16384),
        string("ip", 64),
        datetime_("occurred_at", required=True),
    ),
    (unique_index("seq"), key_index("action"), key_index("actor"), key_index("occurred_at")),
    "Hash-chained: hash = SHA-256(canonical JSON of the entry including seq and prev_hash). Written "
    "unsealed (seq/prev_hash/hash null) with its change, sealed into the chain right after.",
)

AUDIT_HEAD = Table(
    "audit_head", "Audit chain head",
    (integer("seq", default=0), string("hash", 64)),
    (),
    "One row, `head`: the last sealed sequence and hash, moved in the same transaction as each seal.",
)

OUTBOX = Table(
    "outbox", "Outbox",
    (
        string("type", 64, required=True),
        string("tenant_id", 36, required=True),
        datetime_("occurred_at", required=True),
        string("actor", 64),
        text("payload", 65535),  # not "data": SDK 27's Row model swallows a column of that name
        integer("version", default=1),
        enum("status", OUTBOX_STATUSES, required=True),
        integer("attempts", default=0),
        integer("claim_seq", default=0),
        string("claimed_by", 64),
        datetime_("claimed_until"),
        datetime_("published_at"),
        string("last_error", 1024),
    ),
    (key_index("status"), key_index("type")),
    "Row id = event id. Events staged in the same transaction as the change; the relay publishes them "
    "(`claim_seq` lets a relay claim a row with a bounded increment, a compare-and-set).",
)

PROCESSED_EVENTS = Table(
    "processed_events", "Processed events (consumer dedupe)",
    (string("consumer", 64, required=True), string("event_id", 64, required=True)),
    (unique_index("consumer", "event_id"),),
)

DELIVERY_STATUSES = ("failed", "delivered", "dead")

DELIVERIES = Table(
    "deliveries", "Event deliveries (direct mode)",
    (
        string("subscriber", 100, required=True),
        string("event_id", 64, required=True),
        enum("status", DELIVERY_STATUSES, required=True),
        integer("attempts", default=0),
        string("last_error", 1024),
        text("envelope", 65535),
    ),
    (unique_index("subscriber", "event_id"), key_index("status")),
    "Without a broker the relay counts attempts and dead-letters here (row id = processed_row_id(subscriber, "
    "event id)); `invoke bus-status`/`bus-replay` read and revive the dead ones.",
)

IDEMPOTENCY = Table(
    "idempotency", "Idempotent responses",
    (
        string("scope", 64, required=True),
        string("key", 160, required=True),
        string("request_hash", 64, required=True),
        integer("status_code"),
        text("response", 65535),
    ),
    (unique_index("scope", "key"),),
)

RATE_LIMITS = Table(
    "rate_limits", "Rate limit windows",
    (string("key", 128, required=True), datetime_("window_start", required=True), integer("count", default=0)),
    (unique_index("key", "window_start"),),
)

WEBHOOK_DELIVERY_STATUSES = ("pending", "succeeded", "failed")

WEBHOOK_ENDPOINTS = Table(
    "webhook_endpoints", "Outgoing webhook endpoints (funcional-webhooks)",
    (
        string("url", 2048, required=True),
        string("events", 1024),  # JSON list of type filters (`consulta.*`, `order.created`, `*`)
        text("secret", 1024),  # the whsec_ secret, sealed (bigtech.secrets_box)
        boolean("enabled", default=True),
        string("description", 512),
        text("previous_secret", 1024),  # sealed; still signed with until previous_until (rotation)
        datetime_("previous_until"),
        string("disabled_reason", 64),
        datetime_("failing_since"),  # first failure of the current failing streak
        string("created_by", 64),
    ),
    (),
    "Secrets are sealed bound to `<tenant>/funcional-webhooks/<endpoint id>`; shown once on create/rotate.",
)

WEBHOOK_MESSAGES = Table(
    "webhook_messages", "Outgoing webhook messages (funcional-webhooks)",
    (
        string("type", 128, required=True),
        text("payload", 65535),  # the exact body sent, `{type, timestamp, data}`
        datetime_("occurred_at", required=True),
    ),
    (key_index("occurred_at"), key_index("type")),
    "Row id = message id (the event id; `webhook-id`), so an event redelivered by the relay is one message.",
)

WEBHOOK_DELIVERIES = Table(
    "webhook_deliveries", "Outgoing webhook deliveries (one per endpoint and message)",
    (
        string("endpoint_id", 36, required=True),
        string("event_id", 64, required=True),  # the message id
        integer("attempt", default=0),  # attempts claimed so far (a bounded increment: the claim)
        integer("status_code"),
        string("error", 1024),
        datetime_("next_at"),
        enum("status", WEBHOOK_DELIVERY_STATUSES),
        integer("step", default=0),  # position in the retry schedule of the current round
        datetime_("claimed_until"),
        datetime_("last_attempt_at"),
    ),
    (key_index("endpoint_id"), key_index("event_id"), key_index("status", "next_at")),
    "Row id = sha256(endpoint id, message id)[:32]; durable retry state read by the schedule.",
)

WEBHOOK_ATTEMPTS = Table(
    "webhook_attempts", "Outgoing webhook attempts (delivery log)",
    (
        string("delivery_id", 36, required=True),
        string("endpoint_id", 36, required=True),
        string("event_id", 64, required=True),
        integer("attempt", required=True),
        integer("status_code"),
        integer("latency_ms"),
        string("response", 1024),  # truncated response body
        string("error", 512),
        datetime_("attempted_at", required=True),
        string("trigger", 16),  # event | schedule | replay | test
    ),
    (unique_index("delivery_id", "attempt"), key_index("endpoint_id"), key_index("event_id")),
    "One row per attempt; the unique (delivery, attempt) index refuses a second send of one claimed attempt's log.",
)

REPORT_JOB_STATUSES = ("queued", "running", "done", "failed")

REPORT_JOBS = Table(
    "report_jobs", "Report jobs (funcional-relatorios)",
    (
        string("kind", 32, required=True),
        string("created_by", 36, required=True),
        enum("status", REPORT_JOB_STATUSES, required=True),
        text("params", 4096),
        text("state", 65535),  # the partial aggregation and the cursor between chunks
        text("result", 65535),
        string("error", 1024),
        integer("runs", default=0),  # chunks claimed (a bounded increment: one chunk at a time)
        integer("appwrite_calls", default=0),
    ),
    (key_index("created_by"),),
    "A report too big for one execution: run in chunks by asynchronous executions, fetched when done.",
)

DOCUMENT_KINDS = ("consulta_receipt", "order_receipt", "statement", "export")

DOCUMENTS = Table(
    "documents", "Stored documents (Appwrite Storage)",
    (
        enum("kind", DOCUMENT_KINDS, required=True),
        string("subject", 64, required=True),  # consulta id, order id, month, or the export's kind
        string("created_by", 36, required=True),
        string("reader", 36),  # the one member who may read it besides the managers; null = managers only
        enum("status", REPORT_JOB_STATUSES, required=True),
        text("params", 4096),
        string("file_id", 36),
        string("name", 128),
        integer("size", min=0),
        integer("rows", min=0),
        string("error", 1024),
        integer("appwrite_calls", default=0),
    ),
    (key_index("created_by"), key_index("kind", "subject"), key_index("status")),
    "One file in the tenant's bucket (or an export still being written): retention deletes file and row together.",
)

TENANT_SCHEMA = DatabaseSchema(
    (
        WALLETS, LEDGER, CONSULTAS, ORDERS, PACKAGES, PLUGINS, AUDIT, AUDIT_HEAD, OUTBOX, PROCESSED_EVENTS,
        DELIVERIES, IDEMPOTENCY, RATE_LIMITS, WEBHOOK_ENDPOINTS, WEBHOOK_DELIVERIES, WEBHOOK_MESSAGES,
        WEBHOOK_ATTEMPTS, REPORT_JOBS, DOCUMENTS,
    )
)

