"""pagamento-pagarme: credits bought through Pagar.me API v5 (see docs/payments.md)."""

from bigtech.payments import serve_payment

from .pagarme import PagarmePayments

main = serve_payment(PagarmePayments())
