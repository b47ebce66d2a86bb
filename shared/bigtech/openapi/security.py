"""Who may call a route, as OpenAPI security: schemes and the requirement each action gets.

The gates themselves live with the functions (``bigtech.identity.authenticate``, the plugins' CORE
token, mercado-atacado's API key, the gateways' webhook checks, the metrics token); this module only
describes them, by action, the same way they are chosen: the action's family and its matrix scope.
"""

from __future__ import annotations

from typing import Any

from .. import permissions

SESSION, JWT, API_KEY, CORE_TOKEN, WEBHOOK, METRICS, SERVER_KEY = (
    "appwriteSession", "appwriteJWT", "apiKey", "coreToken", "webhookSignature", "metricsToken", "appwriteKey")

SCHEMES: dict[str, dict[str, Any]] = {
    SESSION: {"type": "apiKey", "in": "cookie", "name": "a_session_<project>",
              "description": "A signed-in Appwrite session (the Web SDK's cookie) on the executions API. Appwrite "
                             "checks the function's execute roles and passes x-appwrite-user-id to the function; "
                             "the function resolves tenant and role (x-tenant-id picks a tenant)."},
    JWT: {"type": "apiKey", "in": "header", "name": "x-appwrite-jwt",
          "description": "A user JWT (account.createJWT(), 15 minutes) on the executions API, e.g. from a "
                         "server-side renderer. Same effect as the session."},
    API_KEY: {"type": "apiKey", "in": "header", "name": "x-api-key",
              "description": "mercado-atacado's wholesale API key (never Authorization, which Appwrite's "
                             "executor uses); scopes, IP allow-list and rate limits apply (docs/mercado.md)."},
    CORE_TOKEN: {"type": "apiKey", "in": "header", "name": "x-bigtech-core-token",
                 "description": "The plugin protocol: a short-lived HMAC over the exact request that only CORE "
                                "can mint (bigtech.plugins.core_calls). Not for frontends."},
    WEBHOOK: {"type": "apiKey", "in": "header", "name": "x-webhook-signature",
              "description": "A payment gateway's webhook authentication, checked by the plugin: Asaas "
                             "asaas-access-token, Pagar.me x-webhook-asymmetric-signature (JWKS), sandbox "
                             "x-sandbox-signature (HMAC). Not for frontends (docs/payments.md)."},
    METRICS: {"type": "apiKey", "in": "header", "name": "x-metrics-token",
              "description": "Prometheus' scrape token (BIGTECH_METRICS_TOKEN)."},
    SERVER_KEY: {"type": "apiKey", "in": "header", "name": "x-appwrite-key",
                 "description": "An Appwrite API key: schedules, events and other functions only. Not for "
                                "frontends."},
}

# Routes run by schedules, events or other functions with a key: no user may call them.
KEY_ONLY = frozenset({"billing.events", "billing.reap", "ops.run", "metrics.compact", "webhooks.dispatch",
                      "report_jobs.run", "provisioning.run"})
PUBLIC = frozenset({"openapi.read", "plugin.manifest", "errors.read"})
USER = [{SESSION: []}, {JWT: []}]

# Error codes each gate may answer with: code → status.
_SESSION_ERRORS = {"unauthenticated": 401, "user_not_found": 401, "forbidden": 403, "rate_limited": 429}
_TENANT_ERRORS = {"not_a_member": 403, "no_tenant": 403, "tenant_required": 400, "tenant_not_found": 404}
GATE_ERRORS: dict[str, dict[str, int]] = {
    API_KEY: {"api_key_missing": 401, "api_key_invalid": 401, "api_key_revoked": 401, "api_key_expired": 401,
              "ip_not_allowed": 403, "scope_missing": 403, "rate_limited": 429},
    CORE_TOKEN: {"core_only": 401},
    WEBHOOK: {"invalid_webhook": 401},
    METRICS: {"invalid_metrics_token": 401, "metrics_disabled": 403},
    SERVER_KEY: {"core_only": 403},
}


def requirement(action: str) -> list[dict[str, list[str]]]:
    """The operation's ``security``: alternatives, ``[]`` for a public route."""
    family = action.split(".", 1)[0]
    if action in PUBLIC or (permissions.scope_of(action) == "public" and family not in ("public_api", "metrics")):
        return []
    if family == "plugin":
        return [{CORE_TOKEN: []}]
    if action == "payment.webhook":
        return [{WEBHOOK: []}]
    if family == "public_api":
        return [{API_KEY: []}]
    if action == "metrics.read":
        return [{METRICS: []}]
    if action in KEY_ONLY:
        return [{SERVER_KEY: []}]
    return USER


def gate_errors(action: str, security: list[dict[str, list[str]]]) -> dict[str, int]:
    """Codes the route's gate may answer with before its handler runs."""
    names = {name for alternative in security for name in alternative}
    if not names:
        return {}
    if names & {SESSION, JWT}:
        found = dict(_SESSION_ERRORS)
        scope = permissions.scope_of(action)
        if scope in ("tenant", "self"):
            found.update(_TENANT_ERRORS)
        if scope == "platform":
            found["platform_admin_required"] = 403
        if scope == "tenant" and not permissions.is_read(action):
            found["tenant_suspended"] = 403
        return found
    found = {}
    for name in sorted(names):
        found.update(GATE_ERRORS.get(name, {}))
    return found


def tenant_scoped(action: str, security: list[dict[str, list[str]]]) -> bool:
    """Whether ``x-tenant-id`` means something to this route (a signed-in caller, tenant scope)."""
    return security == USER and permissions.scope_of(action) in ("tenant", "self")


__all__ = ["GATE_ERRORS", "KEY_ONLY", "PUBLIC", "SCHEMES", "gate_errors", "requirement", "tenant_scoped"]
