"""Build mode: one long-lived worker process per function, started on first use.

Like a warm Appwrite container, a worker keeps its imported modules between executions and serves
many executions at once (threads). It runs ``worker_main.py`` with ``python -I -P`` so nothing of
the stack's own ``sys.path`` leaks in: the function only imports what its build folder
(``build/functions/<id>/``: code + vendored ``bigtech`` + the bootstrap ``__init__.py``) and
site-packages hold. The time from
spawn to ``READY`` is recorded per function in :attr:`WorkerPool.cold_starts`.
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

    def execute(self, method: str, path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
        payload = json.dumps(
            {
                "method": method,
                "path": path,
                "headers": headers,
                "body": base64.b64encode(body).decode("ascii"),
                "timeout": self.fn.timeout,
            }
        )
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.fn.timeout + BACKSTOP_SECONDS)
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


class WorkerPool:
    """The build-mode runner: routes each execution to its function's worker."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self._lock = threading.Lock()
        self._start_locks: dict[str, threading.Lock] = {}
        self.workers: dict[str, Worker] = {}
        self.cold_starts: dict[str, float] = {}  # function id -> seconds from spawn to ready, last start

    def root(self, fn: FunctionSpec) -> Path:
        return self.build_dir / fn.id

    def ready(self, fn: FunctionSpec) -> bool:
        return (self.root(fn) / fn.entrypoint).is_file()

    def execute(
        self, fn: FunctionSpec, env: dict[str, str], method: str, path: str, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            worker = self._worker(fn, env)
            return worker.execute(method, path, headers, body)
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

    def _worker(self, fn: FunctionSpec, env: dict[str, str]) -> Worker:
        with self._lock:
            start_lock = self._start_locks.setdefault(fn.id, threading.Lock())
        with start_lock:
            worker = self.workers.get(fn.id)
            if worker is not None and worker.alive and worker.env == env and worker.fn == fn:
                return worker
            if worker is not None:
                worker.stop()
            if not self.ready(fn):
                raise WorkerError(f"no build at {self.root(fn)}: build the functions first")
            worker = Worker(fn, self.root(fn), env)
            worker.start()
            self.workers[fn.id] = worker
            self.cold_starts[fn.id] = worker.cold_start_seconds
            return worker

    def info(self) -> dict[str, dict[str, Any]]:
        return {
            fid: {"pid": w.process.pid if w.process else None, "port": w.port, "alive": w.alive,
                  "coldStartSeconds": w.cold_start_seconds, "startedAt": w.started_at}
            for fid, w in list(self.workers.items())
        }

    def close(self) -> None:
        with self._lock:
            workers, self.workers = list(self.workers.values()), {}
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
