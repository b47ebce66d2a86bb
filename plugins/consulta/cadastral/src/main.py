"""consulta-cadastral: CPF situation or CNPJ registration with fallback between fontes (docs/plugins.md)."""

from bigtech.plugins import serve

from .cadastral import CadastralConsulta

main = serve(CadastralConsulta())
