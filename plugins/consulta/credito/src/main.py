"""consulta-credito: protests, bad cheques, PGFN debts and a score (docs/plugins.md)."""

from bigtech.plugins import serve

from .credito import CreditoConsulta

main = serve(CreditoConsulta())
