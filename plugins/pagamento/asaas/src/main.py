"""pagamento-asaas: credits bought through Asaas API v3 (see docs/payments.md)."""

from bigtech.payments import serve_payment

from .asaas import AsaasPayments

main = serve_payment(AsaasPayments())
