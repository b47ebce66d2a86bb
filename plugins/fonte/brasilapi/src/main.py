"""fonte-brasilapi: BrasilAPI's CNPJ, CEP v2 and FIPE endpoints as a Bigtech fonte (see docs/plugins.md)."""

from bigtech.plugins import serve

from .brasilapi import BrasilApiFonte

main = serve(BrasilApiFonte())
