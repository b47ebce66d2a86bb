"""pagamento-sandbox: a fake gateway with signed webhooks, for development and tests (docs/payments.md)."""

from bigtech.payments import serve_payment

from .sandbox import SandboxPayments

main = serve_payment(SandboxPayments())
