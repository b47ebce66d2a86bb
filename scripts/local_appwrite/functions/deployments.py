"""Deployments: the CLI's chunked ``tar.gz`` upload, the build, and activation.

``appwrite push functions`` uploads a function's folder as a ``tar.gz`` in 5 MiB multipart chunks
(``content-range: bytes a-b/size``; ``x-appwrite-id`` names the deployment from the second chunk on),
then polls the deployment until ``ready`` or ``failed``. Here, under ``<data>/deployments/<fn>/<id>/``:

* ``upload.tar.gz`` collects the chunks (each written at its offset; a repeated chunk is harmless);
* once complete, the build unpacks it into ``code/`` (refusing absolute paths, ``..`` and links
  that leave the folder), creates ``code/runtime-env`` (a virtual environment, as the Open Runtimes
  build does) and runs the function's ``commands`` in ``code/`` with that environment first on
  ``PATH``. The environment sees the stack's own installed packages (a ``.pth`` file), and ``pip``
  runs with ``--no-index`` (``PIP_NO_INDEX``; ``BIGTECH_WHEELHOUSE`` adds a ``--find-links``
  folder), so a requirement the stack already has is "already satisfied" and a build never needs
  the internet; a missing one fails the build with pip's own message in the build logs;
* status goes ``processing`` (upload) → ``waiting`` → ``building`` → ``ready`` | ``failed``; with
  ``activate`` a ready deployment becomes the function's active one, and executions then run its
  ``code/`` folder in build-mode worker processes.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import tarfile
import threading
import time
import venv
from collections.abc import Callable
from email.parser import BytesParser
from email.policy import HTTP
from pathlib import Path
from typing import Any

from ..common import dumps, loads, now_iso, unique_id
from ..errors import AppwriteError, bad_request
from ..runner.project import FunctionSpec
from ..runner.worker import WorkerPool
from ..storage import Storage

SCHEMA = """
CREATE TABLE IF NOT EXISTS aw_deployments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    function_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aw_deployments_function ON aw_deployments (function_id, seq);
"""
MAX_UPLOAD = 30 * 1024 * 1024  # Appwrite's default _APP_FUNCTIONS_SIZE_LIMIT (30 MB)
CHUNK_SIZE = 5 * 1024 * 1024
BUILD_TIMEOUT_SECONDS = 900.0  # Appwrite's _APP_FUNCTIONS_BUILD_TIMEOUT default
LOG_LIMIT = 1_000_000
BUILDS_AT_ONCE = 2
RUNTIME_ENV = "runtime-env"  # the Open Runtimes build's environment folder, inside the function folder
_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")

PIP_SHIM = """#!/bin/sh
# The build environment's pip: the stack's pip module, run by this environment's interpreter.
exec "$(dirname "$0")/python" -m pip "$@"
"""


class DeploymentStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        storage.migrate(SCHEMA)

    def get(self, function_id: str, deployment_id: str) -> dict[str, Any] | None:
        with self.storage.read() as conn:
            row = conn.execute("SELECT doc FROM aw_deployments WHERE id = ? AND function_id = ?",
                               (deployment_id, function_id)).fetchone()
        return loads(row["doc"]) if row else None

    def for_function(self, function_id: str) -> list[dict[str, Any]]:
        with self.storage.read() as conn:
            rows = conn.execute("SELECT doc FROM aw_deployments WHERE function_id = ? ORDER BY seq DESC",
                                (function_id,)).fetchall()
        return [loads(row["doc"]) for row in rows]

    def insert(self, doc: dict[str, Any]) -> None:
        with self.storage.write() as conn:
            conn.execute("INSERT INTO aw_deployments (id, function_id, doc) VALUES (?, ?, ?)",
                         (doc["$id"], doc["resourceId"], dumps(doc)))

    def update(self, function_id: str, deployment_id: str, **changes: Any) -> dict[str, Any]:
        with self.storage.write() as conn:
            row = conn.execute("SELECT doc FROM aw_deployments WHERE id = ? AND function_id = ?",
                               (deployment_id, function_id)).fetchone()
            if row is None:
                raise deployment_missing()
            doc = {**loads(row["doc"]), **changes, "$updatedAt": now_iso()}
            conn.execute("UPDATE aw_deployments SET doc = ? WHERE id = ?", (dumps(doc), deployment_id))
        return doc

    def delete(self, function_id: str, deployment_id: str) -> bool:
        with self.storage.write() as conn:
            return conn.execute("DELETE FROM aw_deployments WHERE id = ? AND function_id = ?",
                                (deployment_id, function_id)).rowcount > 0

    def delete_function(self, function_id: str) -> None:
        with self.storage.write() as conn:
            conn.execute("DELETE FROM aw_deployments WHERE function_id = ?", (function_id,))


def deployment_missing() -> AppwriteError:
    return AppwriteError(404, "deployment_not_found", "Deployment with the requested ID could not be found.")


def new_deployment(deployment_id: str, function_id: str, entrypoint: str, activate: bool, size: int) -> dict[str, Any]:
    now = now_iso()
    return {
        "$id": deployment_id, "$createdAt": now, "$updatedAt": now, "type": "manual",
        "resourceId": function_id, "resourceType": "functions", "entrypoint": entrypoint,
        "sourceSize": size, "buildSize": 0, "totalSize": size, "buildId": "", "activate": activate,
        "screenshotLight": "", "screenshotDark": "", "status": "processing", "buildLogs": "",
        "buildDuration": 0, "providerRepositoryName": "", "providerRepositoryOwner": "",
        "providerRepositoryUrl": "", "providerCommitHash": "", "providerCommitAuthorUrl": "",
        "providerCommitAuthor": "", "providerCommitMessage": "", "providerCommitUrl": "", "providerBranch": "",
        "providerBranchUrl": "", "chunksTotal": 1, "chunksUploaded": 0, "commands": "",
    }


# -- the multipart request --------------------------------------------------------------------------
def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], bytes | None]:
    """``(fields, file bytes)`` of a ``multipart/form-data`` body; 400 when it is not one."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        raise bad_request("Invalid `code` param: send the code as multipart/form-data.")
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n"
                                                   + body)
    if not message.is_multipart():
        raise bad_request("Invalid multipart body.")
    fields: dict[str, str] = {}
    code: bytes | None = None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        if name == "code":
            code = payload
        elif isinstance(name, str):
            fields[name] = payload.decode("utf-8", errors="replace")
    return fields, code


def parse_range(header: str | None, chunk_length: int) -> tuple[int, int, int]:
    """``(start, end, total)`` from ``content-range``; a request without one is the whole file."""
    if not header:
        start, end, total = 0, chunk_length - 1, chunk_length
    else:
        found = _RANGE.match(header.strip())
        if not found:
            raise bad_request("Invalid content-range header.")
        start, end, total = (int(group) for group in found.groups())
        if end < start or end >= total or end - start + 1 != chunk_length or start % CHUNK_SIZE:
            raise bad_request("Invalid content-range header: it does not match the chunk sent.")
    if chunk_length == 0:
        raise bad_request("Invalid `code` param: the file is empty.")
    if total > MAX_UPLOAD:
        raise AppwriteError(400, "storage_invalid_file_size", f"File size not allowed (max {MAX_UPLOAD} bytes).")
    return start, end, total


class Uploads:
    """Assembles chunks into ``upload.tar.gz`` and tracks which byte ranges arrived."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._received: dict[str, set[int]] = {}  # deployment id -> chunk starts received

    def write(self, folder: Path, deployment_id: str, start: int, data: bytes, total: int) -> tuple[int, int, bool]:
        """Store a chunk → ``(chunks uploaded, chunks total, complete)``."""
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / "upload.tar.gz"
        with self._lock:
            mode = "r+b" if target.exists() else "wb"
            with open(target, mode) as handle:
                handle.seek(start)
                handle.write(data)
            received = self._received.setdefault(deployment_id, set())
            received.add(start)
            chunks_total = max(1, -(-total // CHUNK_SIZE))
            complete = sum(_chunk_length(s, total) for s in received) >= total
            if complete:
                self._received.pop(deployment_id, None)
            return min(len(received), chunks_total), chunks_total, complete


def _chunk_length(start: int, total: int) -> int:
    return min(CHUNK_SIZE, total - start)


# -- the build ---------------------------------------------------------------------------------------
def unpack(archive: Path, target: Path) -> int:
    """Extract a ``tar.gz`` into ``target``, refusing members that would land outside it → file count."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    root = target.resolve()
    count = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar.getmembers():
                destination = (root / member.name).resolve()
                if not destination.is_relative_to(root) or member.isdev():
                    raise ValueError(f"unsafe path in the archive: {member.name!r}")
                if member.issym() or member.islnk():
                    link = (destination.parent / member.linkname).resolve()
                    if not link.is_relative_to(root):
                        raise ValueError(f"link leaves the folder: {member.name!r} -> {member.linkname!r}")
                count += member.isfile()
            tar.extractall(root, filter="data")
    except (tarfile.TarError, OSError, EOFError) as error:
        raise ValueError(f"the code archive could not be read: {error}") from None
    return count


def stack_site_packages() -> list[str]:
    """Where the stack's own packages live (its virtual environment's site-packages)."""
    paths = [p for p in site.getsitepackages() if Path(p).is_dir()]
    return paths or [p for p in sys.path if p.endswith("site-packages")]


def make_runtime_env(code: Path) -> Path:
    """``code/runtime-env``: a virtual environment whose interpreter also sees the stack's packages."""
    env_dir = code / RUNTIME_ENV
    venv.EnvBuilder(with_pip=False, symlinks=os.name != "nt", clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(  # noqa: S603 - the interpreter we just created
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()
    Path(purelib, "_bigtech_stack_packages.pth").write_text("\n".join(stack_site_packages()) + "\n")
    pip = env_dir / "bin" / "pip"
    pip.write_text(PIP_SHIM)
    pip.chmod(0o755)
    return env_dir


def build_environment(env_dir: Path, code: Path, variables: dict[str, str]) -> dict[str, str]:
    """What the build command runs with: the function's variables, the environment first on PATH, offline pip."""
    env = {key: os.environ[key] for key in ("LANG", "LC_ALL", "TZ", "TMPDIR", "SSL_CERT_FILE") if key in os.environ}
    env.update(variables)
    env.update({
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "VIRTUAL_ENV": str(env_dir),
        "HOME": str(code.parent / "home"),
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    wheelhouse = os.environ.get("BIGTECH_WHEELHOUSE")
    if wheelhouse:
        env["PIP_FIND_LINKS"] = wheelhouse
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    return env


def run_build(folder: Path, entrypoint: str, commands: str, variables: dict[str, str],
              timeout: float = BUILD_TIMEOUT_SECONDS) -> tuple[bool, str]:
    """Unpack ``folder/upload.tar.gz`` into ``folder/code`` and run ``commands`` there → (ok, logs)."""
    logs: list[str] = []
    code = folder / "code"
    try:
        files = unpack(folder / "upload.tar.gz", code)
        logs.append(f"Unpacked {files} files.")
        env_dir = make_runtime_env(code)
        logs.append(f"Created the build environment {RUNTIME_ENV} (offline: pip --no-index).")
        if commands.strip():
            logs.append(f"$ {commands}")
            completed = subprocess.run(  # noqa: S603 - the function's own build commands, as Appwrite runs them
                ["/bin/sh", "-c", commands], cwd=code, env=build_environment(env_dir, code, variables),
                capture_output=True, text=True, timeout=timeout,
            )
            logs += [completed.stdout.rstrip(), completed.stderr.rstrip()]
            if completed.returncode != 0:
                logs.append(f"Build command failed with exit code {completed.returncode}.")
                return False, _join(logs)
        if not (code / entrypoint).is_file():
            logs.append(f"Entrypoint {entrypoint!r} not found in the deployment.")
            return False, _join(logs)
        logs.append("Build finished.")
        return True, _join(logs)
    except subprocess.TimeoutExpired:
        logs.append(f"Build timed out after {timeout:.0f} s.")
    except (ValueError, OSError, subprocess.SubprocessError) as error:
        logs.append(f"Build failed: {error}")
    return False, _join(logs)


def _join(lines: list[str]) -> str:
    return "\n".join(line for line in lines if line)[-LOG_LIMIT:]


class Builder:
    """Builds deployments on background threads, at most ``BUILDS_AT_ONCE`` at a time (Appwrite's queue)."""

    def __init__(self, store: DeploymentStore, on_ready: Callable[[str, dict[str, Any]], None]) -> None:
        self.store = store
        self.on_ready = on_ready
        self._slots = threading.BoundedSemaphore(BUILDS_AT_ONCE)

    def start(self, function_id: str, deployment_id: str, folder: Path, entrypoint: str, commands: str,
              variables: dict[str, str]) -> None:
        args = (function_id, deployment_id, folder, entrypoint, commands, variables)
        threading.Thread(target=self._build, args=args, name=f"build-{function_id}", daemon=True).start()

    def _build(self, function_id: str, deployment_id: str, folder: Path, entrypoint: str, commands: str,
               variables: dict[str, str]) -> None:
        with self._slots:
            started = time.monotonic()
            self.store.update(function_id, deployment_id, status="building")
            ok, logs = run_build(folder, entrypoint, commands, variables)
            size = sum(p.stat().st_size for p in (folder / "code").rglob("*") if p.is_file() and not p.is_symlink()) \
                if (folder / "code").is_dir() else 0
            doc = self.store.update(
                function_id, deployment_id, status="ready" if ok else "failed", buildLogs=logs,
                buildDuration=round(time.monotonic() - started), buildSize=size,
                totalSize=size + int(self.store.get(function_id, deployment_id)["sourceSize"]),
                buildId=unique_id(),
            )
        if ok:
            self.on_ready(function_id, doc)


class DeploymentPool(WorkerPool):
    """Build-mode workers for deployed functions: each runs its active deployment's ``code/`` folder
    (``FunctionSpec.folder``), with the deployment's ``runtime-env`` interpreter. Activating another
    deployment changes the folder and ``APPWRITE_FUNCTION_DEPLOYMENT``, so the pool restarts the worker."""

    def root(self, fn: FunctionSpec) -> Path:
        return fn.folder
