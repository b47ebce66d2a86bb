"""consulta-veicular: vehicle data plus FIPE value with fallback between fontes (docs/plugins.md)."""

from bigtech.plugins import serve

from .veicular import VeicularConsulta

main = serve(VeicularConsulta())
