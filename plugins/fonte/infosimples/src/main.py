"""fonte-infosimples: the Infosimples API v2 as a Bigtech fonte (see docs/plugins.md)."""

from bigtech.plugins import serve

from .infosimples import InfosimplesFonte

main = serve(InfosimplesFonte())
