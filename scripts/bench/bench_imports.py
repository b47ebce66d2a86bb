"""Cold import of each function's main module vs the appwrite SDK alone (issue 12: target ≤ +60 ms).

A cold start pays for importing the function before it answers; the SDK is the floor every function
pays. Route handlers may be imported on first use (``bigtech.lazy.handler``), so for the functions with a
route named in ``FIRST_ROUTE`` the figure that counts is "main + that route": the module imported and
that route's handler resolved, i.e. everything a worker loads before it can answer its first request.

Each sample is a pair of fresh interpreters run back to back (the SDK alone, then the SDK and the
function), timed in CPU time; each side's figure is its fastest of ``REPEAT`` runs (a neighbour's load
only adds time). The slowest modules of the first function are listed from
``python -X importtime``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
REPEAT = 9
SDK = "appwrite.client, appwrite.query, appwrite.exception, appwrite.services.tables_db, appwrite.services.functions"
# (label, module imported as the runtime does: "<folder>.src.main" with the folder's parent on sys.path)
FUNCTIONS = (
    ("consultas", "functions", "consultas.src.main"),
    ("billing", "functions", "billing.src.main"),
    ("plugins", "functions", "plugins.src.main"),
    ("health", "functions", "health.src.main"),
    ("fonte-brasilapi", "plugins/fonte", "brasilapi.src.main"),
    ("consulta-cadastral", "plugins/consulta", "cadastral.src.main"),
)
# The route a cold worker of each function typically serves first (the issue-12 target is on these).
FIRST_ROUTE = {"consultas": ("POST", "/"), "billing": ("GET", "/wallet"), "plugins": ("GET", "/")}
# CPU time, not wall time: on a shared, loaded machine the wall clock mostly measures the neighbours.
PROBE = "import time; t = time.process_time(); import {modules}; print((time.process_time() - t) * 1000)"


def _env(folder: str) -> dict[str, str]:
    """``folder``: relative to the repository (source tree, with ``shared/``) or an absolute build folder
    (which vendors ``bigtech`` itself). Nothing is written: a build's bytecode is what its build compiled."""
    paths = [folder] if os.path.isabs(folder) else [str(REPO_ROOT / "shared"), str(REPO_ROOT / folder)]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths), "PYTHONDONTWRITEBYTECODE": "1"}


def built(function_id: str, compiled: bool) -> str:
    """The function as ``invoke build`` vendors it, in a temp folder; ``compiled``: with the bytecode its
    ``commands`` compile at deploy (``scripts/function_entries.py``). → the folder to put on ``PYTHONPATH``."""
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from build_functions import build  # the bench's own helper, needed only when this bench runs

    out = Path(tempfile.mkdtemp(prefix=f"bench-imports-{function_id}-"))
    build(out, only=[function_id], log=lambda _line: None)
    if compiled:
        subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash",  # noqa: S603
                        str(out / function_id)], check=True)
    return str(out)


def import_ms(modules: str, folder: str = "functions") -> float:
    """CPU milliseconds to import ``modules`` in a fresh interpreter."""
    out = subprocess.run(  # noqa: S603 - our own interpreter importing our own modules
        [sys.executable, "-c", PROBE.format(modules=modules)], env=_env(folder),
        capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    return float(out.stdout.strip())


def with_route(module: str, route: tuple[str, str]) -> str:
    """``module`` imported, then the handler of ``route`` resolved (a lazy handler imports its module)."""
    method, path = route
    return (f"{module}; h = {module}.router.match({method!r}, {path!r})[0].handler; "
            "getattr(h, '__wrapped__', h)")


def modules_over_sdk(module: str, folder: str) -> int:
    """How many modules importing ``module`` executes on top of the SDK: a count the machine's load cannot
    move (a ``bigtech.lazy.module`` not yet touched is not counted)."""
    code = (f"import sys, importlib.util; import {SDK}; before = set(sys.modules); import {module}; "
            "print(sum(1 for name, mod in sys.modules.items() if name not in before "
            "and not isinstance(mod, importlib.util._LazyModule)))")
    out = subprocess.run(  # noqa: S603 - our own interpreter importing our own modules
        [sys.executable, "-c", code], env=_env(folder), capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    return int(out.stdout.strip())


def paired(module: str, folder: str) -> tuple[float, float]:
    """(SDK alone, extra of ``module`` over the SDK) from ``REPEAT`` back-to-back pairs: the fastest of each
    side, since a neighbour's load only ever adds time (a median of differences moved by ±60 ms between runs
    on this shared machine, around an SDK that alone costs ~500 ms of CPU: SDK 27 imports all its models)."""
    alone, together = [], []
    for _ in range(REPEAT):
        alone.append(import_ms(SDK, folder))
        together.append(import_ms(f"{SDK}; import {module}", folder))
    return min(alone), min(together) - min(alone)


def slowest(module: str, folder: str, top: int = 8) -> list[tuple[str, float]]:
    """The ``top`` bigtech/third-party modules with the largest cumulative import time (ms) in ``module``
    (an import statement: ``with_route`` gives the module and its first route)."""
    out = subprocess.run(  # noqa: S603 - our own interpreter importing our own modules
        [sys.executable, "-X", "importtime", "-c", f"import {SDK}; import {module}"],
        env=_env(folder), capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    seen_sdk = False
    rows: list[tuple[str, float]] = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not cumulative.strip().isdigit():
            continue
        if name.strip() == "appwrite.services.functions":
            seen_sdk = True  # what follows is the function's own cost on top of the SDK
            continue
        # the function's main, the route's module (imported after main, so also at the top) and what they import
        if seen_sdk and not name.startswith("    ") and name.strip() != module.split(";")[0]:
            rows.append((name.strip(), int(cumulative) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def run(report) -> None:  # type: ignore[no-untyped-def]
    for label, folder, module in FUNCTIONS:
        sdk, extra = paired(module, folder)
        report.metric(f"{label}: appwrite SDK alone", sdk, "ms")
        report.metric(f"{label}: over the SDK", extra, "ms")
        if label in FIRST_ROUTE:
            method, path = FIRST_ROUTE[label]
            _, first = paired(with_route(module, FIRST_ROUTE[label]), folder)
            report.metric(f"{label}: + {method} {path} (target <= 60)", first, "ms")
            report.metric(f"{label}: + {method} {path}, modules over the SDK",
                          modules_over_sdk(with_route(module, FIRST_ROUTE[label]), folder), "modules")
    # What a deployed worker imports: the vendored build, without and with the bytecode its build compiles.
    for label in FIRST_ROUTE:
        module = f"{label}.src.main"
        for compiled, how in ((False, "built, no bytecode"), (True, "as deployed (bytecode compiled at build)")):
            _, first = paired(with_route(module, FIRST_ROUTE[label]), built(label, compiled))
            report.metric(f"{label}: + {FIRST_ROUTE[label][0]} {FIRST_ROUTE[label][1]}, {how}", first, "ms")
    label, folder, module = FUNCTIONS[0]
    for name, ms in slowest(with_route(module, FIRST_ROUTE[label]), folder):
        print(f"    {label} imports {name:<40} {ms:8.1f} ms", flush=True)
