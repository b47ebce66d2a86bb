"""Build mode: long-lived worker processes (one per function instance), started on first use.

Like a warm Appwrite container, a worker keeps its imported modules between executions. Like the
Python runtime on Appwrite, each instance serves one execution at a time: the functions service
leases an instance (``instances.py``) before it calls :meth:`WorkerPool.execute`, so a worker
never sees two executions at once. It runs ``worker_main.py`` with ``python -I -P`` so nothing of
the stack's own ``sys.path`` leaks in: the function only imports what its build folder
(``build/functions/<id>/``: code + vendored ``bigtech`` + the bootstrap ``__init__.py``) and
site-packages hold. The time from
spawn to ``READY`` is recorded per function in :attr:`WorkerPool.cold_starts`.

A function's code folder is ``build/functions/<id>`` unless :meth:`WorkerPool.activate` points it
elsewhere (a deployment's unpacked folder); :func:`start_worker` starts one worker on any folder.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from .project import FunctionSpec

WORKER_SCRIPT = Path(__file__).resolve().parent / "worker_main.py"
START_TIMEOUT_SECONDS = 60.0
BACKSTOP_SECONDS = 5.0  # the executor's grace after the function's own timeout
_PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "SSL_CERT_FILE", "SYSTEMROOT")


class WorkerError(RuntimeError):
    pass


class Worker:
    def __init__(self, fn: FunctionSpec, root: Path, env: dict[str, str]) -> None:
        self.fn = fn
        self.root = root
        self.env = env
        self.port = 0
        self.cold_start_seconds = 0.0
        self.started_at = 0.0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        env = {k: os.environ[k] for k in _PASSED_THROUGH if k in os.environ}
        env.update(self.env)
        # A deployment built by the stack carries its build environment (Open Runtimes' runtime-env).
        built_python = self.root / "runtime-env" / "bin" / "python"
        command = [
            str(built_python) if built_python.is_file() else sys.executable, "-I", "-P", str(WORKER_SCRIPT),
            "--root", str(self.root), "--entrypoint", self.fn.entrypoint,
            "--logging", "enabled" if self.fn.logging else "disabled",
        ]
        started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=self.root
        )
        self.port = _await_ready(self.process, self.fn.id)
        self.cold_start_seconds = time.perf_counter() - started
        self.started_at = time.time()
        threading.Thread(target=_relay, args=(self.process.stdout, self.fn.id), daemon=True).start()

    def execute(
        self, method: str, path: str, headers: dict[str, str], body: bytes, timeout: float | None = None
    ) -> dict[str, Any]:
        """Run one execution; ``timeout`` is what is left of the function's (queueing counts)."""
        limit = self.fn.timeout if timeout is None else max(0.0, timeout)
        payload = json.dumps(
            {
                "method": method,
                "path": path,
                "headers": headers,
                "body": base64.b64encode(body).decode("ascii"),
                "timeout": limit,
            }
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=limit + BACKSTOP_SECONDS)
        try:
            conn.request("POST", "/execute", payload, {"content-type": "application/json"})
            response = conn.getresponse()
            result = json.loads(response.read())
        finally:
            conn.close()
        result["body"] = base64.b64decode(result.get("body") or "")
        return result

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(3)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(3)


def start_worker(fn: FunctionSpec, folder: Path, env: dict[str, str]) -> Worker:
    """Start one warm worker serving ``fn`` from ``folder`` (a build or an unpacked deployment)."""
    if not (folder / fn.entrypoint).is_file():
        raise WorkerError(f"no {fn.entrypoint} in {folder}: build or deploy the function first")
    worker = Worker(fn, folder, env)
    worker.start()
    return worker


class WorkerPool:
    """The build-mode runner: routes each execution to one instance (worker) of its function."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self._lock = threading.Lock()
        self._start_locks: dict[tuple[str, int], threading.Lock] = {}
        self._roots: dict[str, Path] = {}  # function id -> activated deployment folder
        self.instances: dict[str, dict[int, Worker]] = {}  # function id -> instance index -> worker
        self.cold_starts: dict[str, float] = {}  # function id -> seconds from spawn to ready, last start

    @property
    def workers(self) -> dict[str, Worker]:
        """The first instance of each function (the one a single-instance function has)."""
        return {fid: ws[min(ws)] for fid, ws in list(self.instances.items()) if ws}

    def root(self, fn: FunctionSpec) -> Path:
        return self._roots.get(fn.id) or self.build_dir / fn.id

    def activate(self, function_id: str, folder: Path) -> None:
        """Serve ``function_id`` from ``folder`` from now on; its running workers stop (next use restarts)."""
        with self._lock:
            self._roots[function_id] = folder
            workers = list(self.instances.pop(function_id, {}).values())
        for worker in workers:
            worker.stop()

    def ready(self, fn: FunctionSpec) -> bool:
        return (self.root(fn) / fn.entrypoint).is_file()

    def execute(
        self, fn: FunctionSpec, env: dict[str, str], method: str, path: str, headers: dict[str, str], body: bytes,
        *, instance: int = 0, timeout: float | None = None,
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            worker = self._worker(fn, env, instance)
            return worker.execute(method, path, headers, body, timeout)
        except (OSError, WorkerError, http.client.HTTPException, ValueError) as error:
            timed_out = isinstance(error, TimeoutError)
            return {
                "statusCode": 500,
                "body": b"",
                "headers": {"content-type": "text/plain; charset=utf-8"},
                "logs": "",
                "errors": "Execution timed out.\n" if timed_out else f"The function's worker failed: {error}\n",
                "duration": time.perf_counter() - started,
            }

    def _worker(self, fn: FunctionSpec, env: dict[str, str], instance: int) -> Worker:
        with self._lock:
            start_lock = self._start_locks.setdefault((fn.id, instance), threading.Lock())
        with start_lock:
            root = self.root(fn)
            worker = self.instances.get(fn.id, {}).get(instance)
            if worker is not None and worker.alive and worker.env == env and worker.fn == fn and worker.root == root:
                return worker
            if worker is not None:
                worker.stop()
            worker = start_worker(fn, root, env)
            with self._lock:
                self.instances.setdefault(fn.id, {})[instance] = worker
            self.cold_starts[fn.id] = worker.cold_start_seconds
            return worker

    def info(self) -> dict[str, dict[str, Any]]:
        def one(w: Worker) -> dict[str, Any]:
            return {"pid": w.process.pid if w.process else None, "port": w.port, "alive": w.alive,
                    "coldStartSeconds": w.cold_start_seconds, "startedAt": w.started_at}

        return {
            fid: {**one(ws[min(ws)]), "instances": [one(ws[i]) for i in sorted(ws)]}
            for fid, ws in list(self.instances.items()) if ws
        }

    def close(self) -> None:
        with self._lock:
            workers = [w for ws in self.instances.values() for w in ws.values()]
            self.instances = {}
        for worker in workers:
            worker.stop()


def _await_ready(process: subprocess.Popen[bytes], function_id: str) -> int:
    """Read ``READY <port>`` from the worker's stdout, giving up after ``START_TIMEOUT_SECONDS``."""
    box: dict[str, bytes] = {}
    reader = threading.Thread(target=lambda: box.setdefault("line", process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    reader.join(START_TIMEOUT_SECONDS)
    line = box.get("line", b"").decode(errors="replace").strip()
    if not line.startswith("READY "):
        process.kill()
        raise WorkerError(f"worker for {function_id} did not start (exit code {process.poll()}): {line!r}")
    return int(line.split()[1])


def _relay(stream: IO[bytes] | None, function_id: str) -> None:
    """Forward what the function prints to the stack's stderr, so the pipe never fills up."""
    if stream is None:
        return
    for line in iter(stream.readline, b""):
        sys.stderr.write(f"[{function_id}] {line.decode(errors='replace')}")
