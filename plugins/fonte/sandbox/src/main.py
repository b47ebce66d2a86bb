"""fonte-sandbox: deterministic synthetic data for development and tests (see docs/plugins.md)."""

from bigtech.plugins import serve

from .sandbox import SandboxFonte

main = serve(SandboxFonte())
