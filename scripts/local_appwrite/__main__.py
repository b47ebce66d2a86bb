"""``python -m local_appwrite`` (what ``scripts/dev`` runs): serve the local platform until Ctrl-C.

Settings come from the environment, then ``.env`` (``StackSettings.from_env``). Once the server
answers, the development seed (``dev_seed``: platform admin, later the demo tenant) runs through
the SDK over HTTP, and the connection details are printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

from .app import LocalAppwrite
from .stack_settings import StackSettings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_appwrite", description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["source", "build"], help="run functions from source (default) or build/")
    parser.add_argument("--no-seed", action="store_true", help="do not create the platform admin and demo data")
    parser.add_argument("--no-schedules", action="store_true", help="do not run function schedules")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def wait_until_up(settings: StackSettings, timeout: float = 15.0) -> None:
    """Poll ``GET /health`` with the API key until the server answers 200."""
    headers = {"x-appwrite-project": settings.project_id, "x-appwrite-key": settings.api_key}
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(settings.endpoint + "/health", headers=headers, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the local Appwrite did not answer on {settings.endpoint} within {timeout:.0f}s")
        time.sleep(0.1)


def build_functions_into(build_dir: Path) -> None:
    """Build mode runs the vendored copies, so build them first (as a deploy would)."""
    import build_functions  # scripts/ is on the path (PYTHONPATH=shared:scripts)

    build_functions.build(build_dir)


def banner(settings: StackSettings, seeded: list[str]) -> str:
    lines = [
        "",
        "Bigtech local platform is running (Ctrl-C to stop)",
        f"  endpoint     {settings.endpoint}",
        f"  project id   {settings.project_id}",
        f"  API key      {settings.api_key}",
        f"  data dir     {settings.data_dir}",
        f"  functions    {settings.functions_mode} mode",
    ]
    if seeded:
        lines += ["", "Demo logins and data:", *(f"  {line}" for line in seeded)]
    lines += [
        "",
        "Try it:",
        f"  curl -s -X POST {settings.endpoint}/functions/health/executions \\",
        f"    -H 'x-appwrite-project: {settings.project_id}' -H 'x-appwrite-key: {settings.api_key}' \\",
        "    -H 'content-type: application/json' -d '{\"path\": \"/\", \"method\": \"GET\"}'",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.mode:
        overrides["functions_mode"] = args.mode
    if args.no_schedules:
        overrides["run_schedules"] = False
    if args.verbose:
        overrides["verbose"] = True
    settings = StackSettings.from_env(**overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.functions_mode == "build":
        build_functions_into(settings.build_dir)

    stopped = threading.Event()
    # SIGTERM (docker stop, CI) stops as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())

    stack = LocalAppwrite(settings)
    stack.start()
    try:
        wait_until_up(settings)
        seeded: list[str] = []
        if not args.no_seed:
            from dev_seed import SeedSettings, seed  # scripts/ is on the path

            seeded = seed(SeedSettings.from_stack(settings))
        print(banner(settings, seeded), flush=True)
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…", file=sys.stderr)
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
