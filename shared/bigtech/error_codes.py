"""The error-code catalogue: every ``error.code`` Bigtech answers, its HTTP status(es), what it means and
a pt-BR message a UI can show as is (docs/errors.md).

Clients switch on ``code`` (stable); ``message`` in a response is for developers and may change. A UI
shows ``message_pt`` from here (or from ``GET /errors`` on the ``health`` function, or ``x-error-codes``
in the OpenAPI document). ``tests/unit/test_error_codes.py`` scans ``shared/``, ``functions/`` and
``plugins/`` and fails when a code raised there is missing here: add it with its status and messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ErrorCode:
    code: str
    statuses: tuple[int, ...]  # most codes have one; a few mean the same thing at two layers
    meaning: str
    message_pt: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "status": self.statuses[0], "statuses": list(self.statuses),
                "meaning": self.meaning, "message_pt": self.message_pt}


def _e(code: str, statuses: int | tuple[int, ...], meaning: str, message_pt: str) -> ErrorCode:
    return ErrorCode(code, statuses if isinstance(statuses, tuple) else (statuses,), meaning, message_pt)


_ALL = [
    # -- 400: malformed requests ------------------------------------------------------------------------
    _e("bad_request", 400, "The request is malformed.", "A requisição está malformada."),
    _e("invalid_json", 400, "The body is not valid JSON (or nested too deeply, or holds a lone surrogate).",
       "O corpo da requisição não é um JSON válido."),
    _e("invalid_body", 400, "The body is not valid UTF-8, not JSON, or not a JSON object.",
       "O corpo da requisição é inválido."),
    _e("invalid_type", 400, "A field or query parameter has the wrong type (a string for a number…): details names it.",
       "Um campo tem o tipo errado."),
    _e("invalid_query", 400, "The query string is too long or has too many parameters.",
       "Os parâmetros da consulta são inválidos."),
    _e("invalid_request", 400, "Appwrite refused a call this request made (an input it cannot accept).",
       "A requisição não pôde ser processada."),
    _e("tenant_required", 400, "A platform admin must name a tenant with the x-tenant-id header.",
       "Escolha uma empresa (cabeçalho x-tenant-id)."),
    _e("idempotency_key_required", 400, "This route moves money: send an idempotency-key header.",
       "Envie uma chave de idempotência (idempotency-key) para repetir a operação com segurança."),
    _e("too_many_changes", 400, "The request would change more rows than one transaction allows.",
       "Alterações demais em uma única operação."),
    # -- 401: who is calling? ----------------------------------------------------------------------------
    _e("unauthorized", 401, "Authentication is required.", "É preciso entrar para continuar."),
    _e("unauthenticated", 401, "No signed-in user called (no x-appwrite-user-id): sign in.",
       "Sua sessão expirou. Entre novamente."),
    _e("user_not_found", 401, "The calling user no longer exists.", "Usuário não encontrado. Entre novamente."),
    _e("core_only", (401, 403), "A plugin-protocol or key-only route called without CORE's token or key.",
       "Esta rota é de uso interno da plataforma."),
    _e("api_key_missing", 401, "Send the API key in the x-api-key header.", "Informe a chave de API (x-api-key)."),
    _e("api_key_invalid", 401, "The API key is not valid.", "Chave de API inválida."),
    _e("api_key_revoked", (401, 404), "The API key was revoked.", "Esta chave de API foi revogada."),
    _e("api_key_expired", 401, "The API key has expired.", "Esta chave de API expirou."),
    _e("invalid_metrics_token", 401, "The x-metrics-token is missing or wrong.", "Token de métricas inválido."),
    _e("invalid_webhook", 401, "The webhook's token or signature does not verify.",
       "Notificação de pagamento não autenticada."),
    # -- 402 ------------------------------------------------------------------------------------------
    _e("insufficient_credits", 402, "Not enough credits: buy more.", "Créditos insuficientes. Compre mais créditos."),
    _e("monthly_limit_reached", 402, "The member's monthly spending limit is reached.",
       "Você atingiu seu limite mensal de gastos."),
    # -- 403: known caller, not allowed ---------------------------------------------------------------
    _e("forbidden", 403, "Your role may not do this.", "Você não tem permissão para fazer isso."),
    _e("platform_admin_required", 403, "Only platform admins may do this.",
       "Apenas administradores da plataforma podem fazer isso."),
    _e("not_a_member", 403, "You are not a member of the tenant named by x-tenant-id.",
       "Você não é membro desta empresa."),
    _e("no_tenant", 403, "You are not a member of any tenant.", "Você ainda não faz parte de nenhuma empresa."),
    _e("tenant_suspended", 403, "The tenant is suspended: only reading is allowed.",
       "Esta empresa está suspensa; apenas consultas de leitura são permitidas."),
    _e("cannot_assign_owner", 403, "Only an owner may make someone an owner.",
       "Apenas um proprietário pode nomear outro proprietário."),
    _e("cannot_manage_owner", 403, "Only an owner may change or remove an owner.",
       "Apenas um proprietário pode alterar ou remover outro proprietário."),
    _e("ip_not_allowed", 403, "The API key may not be used from this address.",
       "Esta chave de API não pode ser usada a partir deste endereço."),
    _e("scope_missing", 403, "The API key lacks the scope this route needs.", "A chave de API não tem esta permissão."),
    _e("metrics_disabled", 403, "Metrics are off (no BIGTECH_METRICS_TOKEN configured).", "Métricas desativadas."),
    _e("simulation_disabled", 403, "Payment simulation only runs in development and test.",
       "A simulação de pagamento está desativada neste ambiente."),
    # -- 404 ------------------------------------------------------------------------------------------
    _e("not_found", 404, "Nothing with this id exists (or you may not see it).", "Não encontrado."),
    _e("document_not_found", 404, "No stored document (receipt, statement, export) with this id for you.",
       "Documento não encontrado."),
    _e("route_not_found", 404, "No route for this method and path.", "Endereço não encontrado."),
    _e("tenant_not_found", 404, "The tenant does not exist.", "Empresa não encontrada."),
    _e("consulta_not_found", 404, "The consulta does not exist in your tenant.", "Consulta não encontrada."),
    _e("order_not_found", 404, "The order does not exist in your tenant.", "Pedido não encontrado."),
    _e("order_not_paid", 404, "The order has no receipt: it is not paid.", "Este pedido ainda não foi pago."),
    _e("package_not_found", 404, "The credit package does not exist.", "Pacote de créditos não encontrado."),
    _e("member_not_found", 404, "The user is not a member of your tenant.", "Membro não encontrado."),
    _e("invitation_not_found", 404, "The invitation does not exist (or was accepted).", "Convite não encontrado."),
    _e("plugin_not_found", 404, "The plugin is not in the catalogue.", "Plugin não encontrado."),
    _e("plugin_not_enabled", (404, 409), "The plugin this route belongs to is not enabled for your tenant.",
       "Este recurso não está habilitado para sua empresa."),
    _e("api_key_not_found", 404, "The API key does not exist in your tenant.", "Chave de API não encontrada."),
    _e("endpoint_not_found", 404, "The webhook endpoint does not exist.", "Endpoint de webhook não encontrado."),
    _e("message_not_found", 404, "The webhook message does not exist.", "Mensagem de webhook não encontrada."),
    _e("delivery_not_found", 404, "The webhook delivery does not exist.", "Entrega de webhook não encontrada."),
    _e("export_not_found", 404, "No such export.", "Exportação não encontrada."),
    _e("statement_not_found", 404, "No statement for that month.", "Extrato não encontrado."),
    _e("job_not_found", 404, "The report job does not exist.", "Relatório não encontrado."),
    _e("simulation_unavailable", 404, "This gateway simulates no payments.", "Simulação indisponível."),
    # -- 405 ------------------------------------------------------------------------------------------
    _e("method_not_allowed", 405, "The path exists, not with this method (see the allow header).",
       "Operação não permitida neste endereço."),
    # -- 409: the state forbids it --------------------------------------------------------------------
    _e("conflict", 409, "The request conflicts with the current state.", "A operação conflita com o estado atual."),
    _e("already_exists", 409, "Something with this id or unique value already exists.", "Este registro já existe."),
    _e("already_member", 409, "The user already belongs to this tenant.", "Este usuário já é membro da empresa."),
    _e("last_owner", 409, "A tenant must keep at least one owner.", "A empresa precisa de pelo menos um proprietário."),
    _e("busy", 409, "The audit trail is being written by another request: retry.",
       "Sistema ocupado. Tente novamente em instantes."),
    _e("consulta_abandoned", 409,
       "An async consulta's execution never finished (died, timed out, or never ran): billing's schedule "
       "ended it failed. Nothing was charged and its idempotency-key was freed: ask again.",
       "A consulta não terminou a tempo e foi cancelada; nada foi cobrado. Faça a consulta novamente."),
    _e("hold_exists", 409, "Credits are already reserved for this request.",
       "Já existe uma reserva para esta operação."),
    _e("idempotency_in_progress", 409, "A request with this idempotency-key is still running: retry later.",
       "Uma operação idêntica ainda está em andamento. Aguarde e tente novamente."),
    _e("no_fonte_enabled", 409, "No data source is enabled for this consulta category.",
       "Nenhuma fonte de dados está habilitada para esta consulta."),
    _e("no_payment_plugin", 409, "No payment gateway is enabled for your tenant.",
       "Nenhum meio de pagamento está habilitado."),
    _e("not_a_sandbox_order", 409, "The order was not placed through the sandbox gateway.",
       "Este pedido não é do ambiente de testes."),
    _e("order_not_found_yet", 409, "A payment event arrived before its order: the relay retries it.",
       "Pedido ainda não registrado."),
    _e("package_inactive", 409, "The credit package is not on sale.", "Este pacote não está à venda."),
    _e("package_out_of_limits", 409, "The package is outside the platform's purchase limits.",
       "Este pacote está fora dos limites de compra."),
    _e("plugin_dependency_missing", 409, "The plugin needs another plugin enabled first.",
       "Este plugin depende de outro que não está habilitado."),
    _e("plugin_required", 409, "Another enabled plugin depends on this one.",
       "Outro plugin habilitado depende deste."),
    _e("subject_index_unavailable", 409, "Document search keys are not configured (BIGTECH_DATA_KEY).",
       "Relatório do titular indisponível no momento."),
    _e("tenant_exists", 409, "A tenant with this id already exists.", "Já existe uma empresa com este identificador."),
    _e("tenant_provisioned", 409, "The tenant is already provisioned.", "Esta empresa já está pronta."),
    _e("too_many_endpoints", 409, "The tenant has the maximum number of webhook endpoints.",
       "Limite de endpoints de webhook atingido."),
    _e("endpoint_disabled", 409, "The webhook endpoint is disabled.", "Este endpoint de webhook está desativado."),
    _e("webhook_secret_missing", 409, "The sandbox gateway has no webhook secret configured.",
       "O gateway de testes não está configurado."),
    # -- 413 ------------------------------------------------------------------------------------------
    _e("payload_too_large", 413, "The request body is over 256 KiB.", "A requisição é grande demais."),
    _e("export_too_large", 413, "The export has too many rows: narrow the period.",
       "Exportação grande demais. Reduza o período."),
    # -- 422: well-formed but invalid -----------------------------------------------------------------
    _e("validation_failed", 422, "Fields are invalid: details lists them.", "Alguns campos estão inválidos."),
    _e("async_not_supported", 422, "An API key cannot ask for an async consulta: send callback_url instead.",
       "Consulta assíncrona indisponível com chave de API: informe callback_url."),
    _e("product_not_offered", 422, "The product is not sold for this category by the tenant's catalogue.",
       "Este produto não está disponível para esta categoria."),
    _e("catalogue_out_of_bounds", 422, "The catalogue exceeds a bound the platform admin set: details names each.",
       "O catálogo ultrapassa um limite da plataforma."),
    _e("invalid_cursor", 422, "The cursor is not one this list handed out.", "Paginação inválida. Recarregue a lista."),
    _e("invalid_config", 422, "The plugin config does not match its schema.", "Configuração do plugin inválida."),
    _e("invalid_input", 422, "The consulta input (document, plate, renavam) is invalid.",
       "Dados da consulta inválidos (documento, placa ou Renavam)."),
    _e("unknown_category", 422, "No such consulta category.", "Tipo de consulta desconhecido."),
    _e("invalid_idempotency_key", 422, "The idempotency-key is malformed.", "Chave de idempotência inválida."),
    _e("idempotency_key_reused", 422, "The idempotency-key was used for a different request.",
       "Esta chave de idempotência já foi usada em outra operação."),
    _e("invalid_event", (422, 500), "The event envelope is invalid.", "Evento inválido."),
    _e("invalid_url", 422, "The URL is not an allowed public https URL.", "URL inválida."),
    _e("invalid_callback_url", 422, "The callback URL is not an allowed public https URL.",
       "URL de retorno inválida."),
    _e("empty_update", 422, "The update changes nothing.", "Nada para alterar."),
    _e("nothing_to_change", 422, "The update changes nothing.", "Nada para alterar."),
    # -- 429 ------------------------------------------------------------------------------------------
    _e("rate_limited", 429, "Too many requests: wait retry-after seconds.",
       "Muitas requisições. Aguarde um momento e tente novamente."),
    # -- 5xx: never the caller's fault ----------------------------------------------------------------
    _e("internal_error", 500, "An unexpected error (logged, masked).", "Erro interno. Tente novamente mais tarde."),
    _e("upstream_error", 502, "A platform service (Appwrite) failed a call.",
       "Serviço temporariamente indisponível. Tente novamente."),
    _e("upstream_incompatible", 502, "Appwrite answered in a format this version cannot read.",
       "Serviço temporariamente indisponível."),
    _e("plugin_unavailable", 502, "A plugin function could not be reached.",
       "Serviço temporariamente indisponível."),
    _e("gateway_error", 502, "The payment gateway refused or failed the call.",
       "O meio de pagamento não respondeu. Tente novamente."),
    _e("gateway_refused", 502, "The payment gateway refused the charge.",
       "O meio de pagamento recusou a cobrança."),
    _e("gateway_timeout", 502, "The payment gateway did not answer in time.",
       "O meio de pagamento não respondeu a tempo. Tente novamente."),
    _e("gateway_unreachable", 502, "The payment gateway could not be reached.",
       "O meio de pagamento está indisponível. Tente novamente."),
    _e("payment_gateway_failed", 502, "The payment gateway could not create the charge.",
       "Não foi possível gerar a cobrança. Tente novamente."),
    _e("delivery_failed", 502, "An event could not be delivered to a subscriber.", "Falha ao entregar evento."),
    _e("bus_error", 500, "The event bus failed.", "Erro interno. Tente novamente mais tarde."),
    _e("bus_unavailable", 503, "The event bus (RabbitMQ) is unreachable.", "Serviço temporariamente indisponível."),
    _e("publish_not_confirmed", 503, "The broker did not confirm a publish.", "Serviço temporariamente indisponível."),
    _e("store_unavailable", 503, "The outbox store is unavailable.", "Serviço temporariamente indisponível."),
]

CATALOGUE: dict[str, ErrorCode] = {entry.code: entry for entry in _ALL}


def lookup(code: str) -> ErrorCode | None:
    return CATALOGUE.get(code)


def catalogue_json() -> list[dict[str, Any]]:
    """The whole catalogue, sorted by status then code (``GET /errors``, ``x-error-codes``)."""
    return [entry.to_json() for entry in sorted(CATALOGUE.values(), key=lambda e: (e.statuses[0], e.code))]


__all__ = ["CATALOGUE", "ErrorCode", "catalogue_json", "lookup"]
