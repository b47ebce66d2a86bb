"""Where the sandbox gateway may pay anything: only in a development or test deployment, and only for
a tenant that has not turned simulation off.

``BIGTECH_ENV`` must *say* ``development`` or ``test``: a deployed function without the variable is
production, so simulation is off there (``scripts/dev`` and the test suite set it explicitly). The
same rule guards both doors: ``POST /simulate-payment`` and the sandbox's ``POST /webhook/{tenant_id}``
(every sandbox-signed webhook is a simulated payment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bigtech.settings import load_settings

SIMULATION_ENVIRONMENTS = frozenset({"development", "test"})


def deployment_environment(environ: Mapping[str, str] | None = None) -> str:
    """``BIGTECH_ENV`` (environment, then ``.env``); ``production`` when nothing says otherwise."""
    return load_settings(environ).environment.strip().lower()


def environment_allows_simulation(environ: Mapping[str, str] | None = None) -> bool:
    return deployment_environment(environ) in SIMULATION_ENVIRONMENTS


def tenant_allows_simulation(config: Mapping[str, Any]) -> bool:
    return config.get("allow_simulation", True) is True


__all__ = ["SIMULATION_ENVIRONMENTS", "deployment_environment", "environment_allows_simulation",
           "tenant_allows_simulation"]
