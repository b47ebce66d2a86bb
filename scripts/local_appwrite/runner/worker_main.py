"""Build-mode worker: serves one built function's executions over HTTP, like a warm Appwrite container.

The stack starts it as ``python -I -P worker_main.py --root build/functions/<id> --entrypoint src/main.py``
with the function's ``APPWRITE_FUNCTION_*`` variables in its real environment. As in the Open
Runtimes image, the entrypoint is imported as ``function.src.main`` with the build folder as the
``function`` package (its root ``__init__.py`` runs first) and the folder itself is *not* put on
``sys.path``: only site-packages and what the build's own bootstrap adds (the folder, for the
vendored ``bigtech``) are importable, so a build that would break on Appwrite breaks here too.

It is standalone: it never imports ``local_appwrite``; it loads the runtime contract (``context.py``)
and the package loader (``loader.py``) from its own folder by file path, so the stack and the worker
share one source.

Protocol: prints ``READY <port>`` on stdout once listening; ``POST /execute`` with JSON
``{method, path, headers, body (base64), timeout}`` answers ``{statusCode, body (base64), headers,
logs, errors, duration}``. It exits when its stdin closes (the stack stopped or died).
"""

import argparse
import base64
import contextlib
import importlib.util
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "function"  # the runtime imports the entrypoint as function.src.main


def load_sibling(name: str):
    spec = importlib.util.spec_from_file_location(f"_local_runtime_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--entrypoint", default="src/main.py")
    parser.add_argument("--logging", default="enabled")
    args = parser.parse_args()
    root = Path(args.root).resolve()
    os.chdir(root)
    runtime = load_sibling("context")
    loader = load_sibling("loader")
    modules = loader.ModuleCache()
    logging = args.logging == "enabled"

    def load_main():
        return modules.main(PACKAGE, root, args.entrypoint)

    with contextlib.suppress(Exception):  # an import error is reported by every execution instead
        load_main()  # warm up now: the import is part of the cold start, as on Appwrite

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format, *args):
            return

        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
            context = runtime.build_context(
                payload.get("method", "POST"),
                payload.get("path", "/"),
                payload.get("headers") or {},
                base64.b64decode(payload.get("body") or ""),
                logging,
            )
            result = runtime.run(load_main, context, payload.get("timeout"))
            result["body"] = base64.b64encode(result["body"]).decode("ascii")
            data = json.dumps(result).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


def _exit_with_parent() -> None:
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
