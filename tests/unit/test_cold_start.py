"""Issue 12, the cold path: what a worker imports before it answers its first request stays lean.

Each check runs in a fresh interpreter (the test process has imported everything already) with the
path a deployed function has: ``shared/`` (the vendored library) and the function's parent folder.
The lists are what a route does NOT need; ``docs/credits-consultas-plugins.md`` (Performance) says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

# Loaded only where they are used: httpx (+ its CLI: click, rich, pygments) for a source receipt,
# jsonschema to check a manifest or a plugin's config, cryptography to sign/verify audit checkpoints or open
# plugin secrets, python-dotenv for a developer's .env.
HEAVY_LIBRARIES = ("httpx", "httpcore", "click", "rich", "pygments", "jsonschema", "cryptography", "dotenv")
# ...and, for a consulta or a wallet, the library's parts they do not use: the outbound guard, the table
# declarations (provisioning), the audit verifier and checkpoints, managing plugins, platform settings.
NOT_ON_THE_MONEY_PATH = ("bigtech.outbound", "bigtech.schema.model", "bigtech.schema.provision",
                         "bigtech.audit.verify", "bigtech.audit.anchoring", "bigtech.audit.signing",
                         "bigtech.plugin_loader.changes", "bigtech.plugin_loader.defaults", "bigtech.platform_settings")


def loaded_after(module: str, route: tuple[str, str] | None = None, folder: str = "functions") -> set[str]:
    """Modules really executed (a ``lazy.module`` not yet touched does not count) by importing ``module``
    and resolving the handler of ``route``."""
    method, path = route or ("", "")
    code = f"""
import importlib, importlib.util, json, sys
main = importlib.import_module({module!r})
if {method!r}:
    handler = main.router.match({method!r}, {path!r})[0].handler
    getattr(handler, "__wrapped__", handler)
lazy = importlib.util._LazyModule
print(json.dumps(sorted(name for name, mod in sys.modules.items() if not isinstance(mod, lazy))))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "shared"), str(REPO_ROOT / folder)])}
    with tempfile.TemporaryDirectory() as empty:  # no .env (nor a package) in the working directory, as deployed
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                             cwd=empty)
    return set(json.loads(out.stdout))


def among(modules: set[str], unwanted: tuple[str, ...]) -> list[str]:
    return sorted(name for name in modules if any(name == u or name.startswith(u + ".") for u in unwanted))


@pytest.mark.parametrize(("module", "route"), [
    ("consultas.src.main", ("POST", "/")),
    ("consultas.src.main", ("GET", "/")),
    ("consultas.src.main", ("POST", "/internal/run")),
    ("billing.src.main", ("GET", "/wallet")),
    ("billing.src.main", ("POST", "/grants")),
])
def test_a_consulta_or_a_wallet_loads_only_what_it_uses(module: str, route: tuple[str, str]) -> None:
    assert among(loaded_after(module, route), HEAVY_LIBRARIES + NOT_ON_THE_MONEY_PATH) == []


@pytest.mark.parametrize("route", [("GET", "/"), ("GET", "/catalog")])
def test_listing_plugins_loads_no_heavy_library(route: tuple[str, str]) -> None:
    assert among(loaded_after("plugins.src.main", route), HEAVY_LIBRARIES) == []


def test_consultas_main_loads_no_route_until_it_is_served() -> None:
    loaded = loaded_after("consultas.src.main")
    assert not {"consultas.src.create", "consultas.src.history", "consultas.src.worker"} & loaded


def test_post_consultas_does_not_load_the_history_the_worker_nor_the_async_path() -> None:
    loaded = loaded_after("consultas.src.main", ("POST", "/"))
    assert "consultas.src.create" in loaded
    assert not {"consultas.src.history", "consultas.src.worker", "consultas.src.deferred"} & loaded


@pytest.mark.parametrize(("module", "route"), [("consultas.src.main", ("POST", "/")),
                                               ("billing.src.main", ("GET", "/wallet"))])
def test_the_sweeps_of_dead_consultas_load_only_where_they_run(module: str, route: tuple[str, str]) -> None:
    # the reaper (billing's schedule) and the abandoned-consulta check (the async worker) are not on these paths
    assert among(loaded_after(module, route), ("bigtech.credits.reaper", "bigtech.credits.abandoned")) == []
