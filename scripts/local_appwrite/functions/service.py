"""Running executions: build the request a function sees, run it, record the Execution.

Every execution runs on its own thread; a synchronous caller waits for it at most
``sync_timeout_seconds`` (then 408, while the execution carries on), an asynchronous one gets the
``waiting`` document at once.

Build mode, and every deployed function in either mode, schedules like Appwrite's runtime: each
function has a fixed number of instances (``BIGTECH_FUNCTION_INSTANCES``, default 1) and each instance
serves one execution at a time; the others queue in arrival order. A synchronous execution still queued
when its function's timeout has passed fails and its caller gets 408; an asynchronous one waits in the
queue (Appwrite's execution queue) and its timeout starts when it runs. A synchronous execution that
could never start because every instance is held by its own callers (a self-call, a cycle) is refused
at once with 408 and logged (``runner/instances.py``). Source mode runs the source tree's functions
on their own threads, at once: it only warns about a synchronous self-call (docs/local-appwrite.md).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..common import unique_id
from ..errors import APPWRITE_VERSION, AppwriteError
from ..runner.inprocess import InProcessRunner
from ..runner.instances import Deadlock, InstanceBoard, parse_instances
from ..runner.project import FunctionSpec, Project
from ..runner.worker import WorkerPool
from ..stack_settings import REPO_ROOT
from . import documents
from .deployments import DeploymentPool
from .registry import FunctionRegistry
from .store import ExecutionStore

PROJECT_VARIABLE_PREFIX = "BIGTECH_"  # the stack's own BIGTECH_* environment: Appwrite's project variables

if TYPE_CHECKING:
    from ..app import LocalAppwrite
    from ..events import Event


@dataclass
class Invocation:
    """One request to a function, before the headers Appwrite adds."""

    fn: FunctionSpec
    trigger: str  # "http" | "event" | "schedule"
    method: str = "POST"
    path: str = "/"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    user_id: str = ""
    user_jwt: str = ""
    client_ip: str = ""
    event: str = ""
    permissions: list[str] = field(default_factory=list)
    parent_execution: str = ""  # the execution whose key made this request (a function calling a function)
    parent_function: str = ""


class FunctionsService:
    def __init__(self, stack: LocalAppwrite) -> None:
        self.stack = stack
        self.settings = stack.settings
        self.mode = self.settings.functions_mode
        self.project = Project(self.settings.appwrite_json)
        # Functions created/updated through the API and their deployments (what `appwrite push` sends);
        # a function with an active deployment runs that deployment's files in a worker process.
        self.registry = FunctionRegistry(stack.storage, self.project, self.settings.data_dir / "deployments")
        self.deployed = DeploymentPool(self.settings.data_dir / "deployments")
        self.store = ExecutionStore(stack.storage)
        # (the registry's view, every pattern its enabled functions subscribe to): for ``hears``
        self._subscriptions: tuple[dict[str, FunctionSpec], tuple[str, ...]] | None = None
        self.runner: InProcessRunner | WorkerPool
        # Instances, one execution at a time each, for every function that runs in a worker process (build
        # mode, and any deployed function in either mode), as Appwrite's runtime serves them.
        self.board = InstanceBoard(*parse_instances(self.settings.function_instances))
        if self.mode == "build":
            self.runner = WorkerPool(self.settings.build_dir)
        else:
            self.runner = InProcessRunner(REPO_ROOT / "shared")

    # -- the project ------------------------------------------------------------------------
    def functions(self) -> dict[str, FunctionSpec]:
        return self.registry.functions()

    def function(self, function_id: str) -> FunctionSpec | None:
        return self.registry.get(function_id)

    def deployment_of(self, fn: FunctionSpec) -> str:
        """The function's active deployment id, or the stack's fixed one when it runs from appwrite.json."""
        return self.registry.active_deployment(fn.id) or documents.deployment_id(self.mode)

    def runner_for(self, fn: FunctionSpec) -> InProcessRunner | WorkerPool:
        return self.deployed if self.registry.active_deployment(fn.id) else self.runner

    def environment(self, fn: FunctionSpec) -> dict[str, str]:
        """The variables Appwrite gives a function's runtime, then project variables, then the
        function's own (which win).

        Project variables (Appwrite's "global variables", shared by every function) are, on the local
        stack, the stack's own ``BIGTECH_*`` environment (``.env`` included): ``BIGTECH_SECRETS_KEY``,
        ``BIGTECH_BUS_URL``… reach every function in build mode too, as they would on Appwrite. Beneath
        them, ``StackSettings.variables`` (a test stack's freshly generated keys).
        """
        env = dict(self.settings.variables)  # e.g. a test stack's generated keys
        env |= {key: value for key, value in os.environ.items() if key.startswith(PROJECT_VARIABLE_PREFIX)}
        env |= {
            "APPWRITE_FUNCTION_API_ENDPOINT": self.settings.endpoint,
            "APPWRITE_FUNCTION_ID": fn.id,
            "APPWRITE_FUNCTION_NAME": fn.name,
            "APPWRITE_FUNCTION_DEPLOYMENT": self.deployment_of(fn),
            "APPWRITE_FUNCTION_PROJECT_ID": self.settings.project_id,
            "APPWRITE_FUNCTION_RUNTIME_NAME": fn.runtime_name,
            "APPWRITE_FUNCTION_RUNTIME_VERSION": fn.runtime_version,
            "APPWRITE_FUNCTION_CPUS": fn.cpus,
            "APPWRITE_FUNCTION_MEMORY": fn.memory_mb,
            "APPWRITE_VERSION": APPWRITE_VERSION,
            "APPWRITE_REGION": "default",
        }
        env.update(fn.vars)
        return env

    def ready(self, fn: FunctionSpec) -> bool:
        runner = self.runner_for(fn)
        api_only = self.registry.stored(fn.id) is not None and not self.registry.declared_in_file(fn.id)
        if api_only and runner is self.runner:
            return False  # created through the API and never deployed: nothing to run
        return not isinstance(runner, WorkerPool) or runner.ready(fn)

    # -- executions -------------------------------------------------------------------------
    def start(self, inv: Invocation, wait: float | None, scheduled_at: datetime | None = None) -> dict[str, Any]:
        """Record and launch an execution; wait ``wait`` seconds for it (``None``: return at once)."""
        execution_id = unique_id()
        headers = self._request_headers(inv, execution_id)
        status = "scheduled" if scheduled_at else ("processing" if wait is not None else "waiting")
        doc = documents.new_execution(
            execution_id, inv.fn, self.mode, inv.trigger, inv.method, inv.path, headers, inv.permissions, status,
            scheduled_at.isoformat(timespec="milliseconds") if scheduled_at else None,
        )
        doc["deploymentId"] = self.deployment_of(inv.fn)
        self.store.insert(documents.stored_view(doc))
        waiting_parent = wait is not None and bool(inv.parent_execution)
        if waiting_parent:
            self._enter_sync(inv, doc)
        try:
            return self._launch(inv, doc, headers, wait, scheduled_at)
        finally:
            if waiting_parent:
                self.board.end_sync(execution_id)

    def _enter_sync(self, inv: Invocation, doc: dict[str, Any]) -> None:
        """A function executes a function synchronously: refuse at once what could never start."""
        if inv.parent_function == inv.fn.id:
            print(f"[local-appwrite] warning: {inv.fn.id} executes itself synchronously (execution "
                  f"{inv.parent_execution}); on Appwrite this waits for its own instance and fails with 408",
                  file=sys.stderr)
        if not isinstance(self.runner_for(inv.fn), WorkerPool):
            return  # source mode: every execution has its own thread, nothing can deadlock here
        try:
            self.board.begin_sync(inv.fn.id, doc["$id"], inv.parent_execution)
        except Deadlock as deadlock:
            message = f"Deadlock detected by the local stack: {deadlock}"
            print(f"[local-appwrite] {message}", file=sys.stderr)
            failed = documents.finish_execution(
                doc, {"statusCode": 408, "body": b"", "headers": {}, "logs": "", "errors": message + "\n",
                      "duration": 0.0}, inv.fn.logging)
            self.store.save(documents.stored_view({**failed, "status": "failed"}))
            raise AppwriteError(408, "function_synchronous_timeout", message) from None

    def _launch(
        self, inv: Invocation, doc: dict[str, Any], headers: dict[str, str], wait: float | None,
        scheduled_at: datetime | None,
    ) -> dict[str, Any]:
        done = threading.Event()
        finished: dict[str, Any] = {}
        args = (inv, doc, headers, done, finished, wait is not None)
        if scheduled_at is not None:
            delay = max(0.0, (scheduled_at - datetime.now(UTC)).total_seconds())
            timer = threading.Timer(delay, self._run, args=args)
            timer.daemon = True
            timer.start()
        else:
            threading.Thread(target=self._run, args=args, name=f"execution-{inv.fn.id}", daemon=True).start()
        if wait is None:
            return doc
        if not done.wait(wait) or finished.get("queued_out"):
            raise AppwriteError(
                408, "function_synchronous_timeout",
                "Synchronous function execution timed out. Use asynchronous execution instead, or ensure the "
                "execution duration doesn't exceed 30 seconds.",
            )
        return finished["doc"]

    def _request_headers(self, inv: Invocation, execution_id: str) -> dict[str, str]:
        """The caller's headers, then Appwrite's own (which override the caller's)."""
        headers = {str(k).lower(): str(v) for k, v in inv.headers.items()}
        headers.setdefault("host", urlsplit(self.settings.endpoint).netloc)
        headers.update(
            {
                "x-appwrite-trigger": inv.trigger,
                "x-appwrite-execution-id": execution_id,
                "x-appwrite-user-id": inv.user_id,
                "x-appwrite-user-jwt": inv.user_jwt,
                "x-appwrite-client-ip": inv.client_ip,
                "x-appwrite-country-code": "",
                "x-appwrite-continent-code": "",
                "x-appwrite-continent-eu": "false",
            }
        )
        if inv.event:
            headers["x-appwrite-event"] = inv.event
        return headers

    def _run(
        self, inv: Invocation, doc: dict[str, Any], headers: dict[str, str],
        done: threading.Event, finished: dict[str, Any], sync: bool = False,
    ) -> None:
        fn = inv.fn
        # A synchronous execution is a request the runtime holds: its timeout counts the time spent queued.
        # An asynchronous one waits in Appwrite's execution queue first; its timeout starts when it runs.
        deadline = time.monotonic() + fn.timeout if sync else None
        try:
            if doc["status"] != "processing":
                doc = {**doc, "status": "processing"}
                self.store.save(documents.stored_view(doc))
            key = self.stack.credentials.mint_ephemeral_key(fn.id, list(fn.scopes), fn.timeout + 60, doc["$id"])
            sent = {**headers, "x-appwrite-key": key}
            runner = self.runner_for(fn)
            if not isinstance(runner, WorkerPool):
                result = runner.execute(fn, self.environment(fn), inv.method, inv.path, sent, inv.body)
            else:
                result = self._run_on_instance(runner, inv, doc["$id"], sent, deadline)
                finished["queued_out"] = result.pop("queued_out", False)
        except Exception:  # a stack bug still ends the execution as failed, with the reason
            traceback.print_exc(file=sys.stderr)
            result = {"statusCode": 500, "body": b"", "headers": {}, "logs": "",
                      "errors": traceback.format_exc(), "duration": 0.0}
        full = documents.finish_execution(doc, result, fn.logging)
        self.store.save(documents.stored_view(full))
        finished["doc"] = full
        done.set()

    def _run_on_instance(
        self, runner: WorkerPool, inv: Invocation, execution_id: str, headers: dict[str, str], deadline: float | None
    ) -> dict[str, Any]:
        """A worker-process function: wait for a free instance of the function, then run there, alone."""
        fn = inv.fn
        queued = time.monotonic()
        lease = self.board.acquire(fn.id, execution_id, deadline)
        if lease is None:
            capacity = self.board.capacity(fn.id)
            return {"statusCode": 500, "body": b"", "headers": {}, "logs": "", "queued_out": True,
                    "errors": f"Execution timed out.\nNo instance of {fn.id} became free within its {fn.timeout} s "
                              f"timeout ({capacity} instance(s), each serving one execution at a time).\n",
                    "duration": time.monotonic() - queued}
        timeout = fn.timeout if deadline is None else deadline - time.monotonic()
        try:
            return runner.execute(fn, self.environment(fn), inv.method, inv.path, headers, inv.body,
                                  instance=lease.index, timeout=timeout)
        finally:
            lease.release()

    # -- triggers ---------------------------------------------------------------------------
    def hears(self, event: Event) -> bool:
        """Whether an enabled function subscribes to the event (asked on the publishing thread: no I/O once
        the registry's view is kept; the subscriptions are gathered once per view)."""
        from ..events import subscribed

        functions = self.functions()
        kept = self._subscriptions
        if kept is None or kept[0] is not functions:
            patterns = tuple(p for fn in functions.values() if fn.enabled for p in fn.events)
            kept = self._subscriptions = (functions, patterns)
        return subscribed(kept[1], event.names)

    def on_event(self, event: Event) -> None:
        """Run every enabled function subscribed to the event, once each, asynchronously."""
        from ..events import subscribed

        body = b""
        for fn in self.functions().values():
            if fn.enabled and subscribed(fn.events, event.names) and self.ready(fn):
                body = body or json.dumps(event.payload, default=str).encode()
                inv = Invocation(
                    fn, "event", headers={"content-type": "application/json"}, body=body,
                    user_id=event.user_id or "", event=event.names[0],
                )
                self.start(inv, wait=None)

    def run_schedule(self, fn: FunctionSpec, wait: float | None = None) -> dict[str, Any]:
        return self.start(Invocation(fn, "schedule"), wait=wait)

    def close(self) -> None:
        self.runner.close()
        self.deployed.close()
