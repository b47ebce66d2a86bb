"""Consultas end to end on a private local stack with the sandbox fonte (the default plugins).

Per category it prints what one consulta costs the platform — Appwrite API calls made by the functions
on its path (``consultas``, the consulta plugin, its fontes; counted at the stack by the ephemeral key
that made each call) and function executions created through the API (the caller's one included) —
then the throughput of 8 concurrent clients (8 analysts of one tenant). The asynchronous delivery of
the consulta's outbox event (the ``relay``) is listed apart, by function, in the concurrent run.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.id import ID
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB
from appwrite.services.teams import Teams
from appwrite.services.users import Users

from bigtech.documents import cpf_check_digits
from bigtech.schema import provision_core

from .call_steps import STEPS, Call, Classifier, parse_body
from .support import client_for, private_stack

if TYPE_CHECKING:
    from .run import Report

CLIENTS = 8
PER_CLIENT = 12
SAMPLES = 8
EXECUTIONS_ROUTE = "/functions/{functionId}/executions"
_numbers = itertools.count(100_000_001)


class Counting:
    """A stack observer: API calls by function (ephemeral keys), executions created, and (while
    ``recording``) each call on the consulta's path, to sort into steps (``call_steps``)."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()
        self.executions = 0
        self.recording = False
        self.recorded: list[Call] = []
        self.last: list[Call] = []

    def observe(self, request: Any, route: Any, response: Any) -> None:
        caller = getattr(request, "caller", None)
        with self.lock:
            if caller is not None and caller.kind == "ephemeral":
                self.calls[caller.function_id or "?"] += 1
                if self.recording and route is not None and is_consulta_path(caller.function_id or ""):
                    self.recorded.append(self._call(caller.function_id, request, route, response))
            if route is not None and route.pattern == EXECUTIONS_ROUTE and request.method == "POST":
                self.executions += 1

    def _call(self, function_id: str, request: Any, route: Any, response: Any) -> Call:
        _, path_params = self.router.match(request.method, request.path[len("/v1"):] or "/")
        return Call(function_id, request.method, route.pattern, path_params,
                    parse_body(request.body, dict(request.params)), getattr(response, "body", None))

    def steps(self) -> Counter[str]:
        """Calls recorded since ``recording`` was switched on, by step; the record is then cleared."""
        with self.lock:
            recorded, self.recorded = self.recorded, []
        self.last = recorded
        return Classifier().steps_of(recorded)

    def snapshot(self) -> tuple[int, int]:
        """(calls made for the consulta itself, executions); event delivery (the relay) is apart."""
        with self.lock:
            return sum(n for fid, n in self.calls.items() if is_consulta_path(fid)), self.executions


def is_consulta_path(function_id: str) -> bool:
    return function_id == "consultas" or function_id.startswith(("consulta-", "fonte-"))


def user_client(stack: Any, user_id: str) -> Client:
    jwt = Users(client_for(stack)).create_jwt(user_id, duration=3600).jwt
    return Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id).set_jwt(jwt)


def call(client: Client, function_id: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    execution = Functions(client).create_execution(function_id, body=json.dumps(body) if body is not None else "",
                                                   xasync=False, path=path, method=ExecutionMethod(method))
    text = execution.responsebody or ""
    return int(execution.responsestatuscode), (json.loads(text) if text else None)


def expect(result: tuple[int, Any], status: int) -> Any:
    if result[0] != status:
        raise RuntimeError(f"expected HTTP {status}, got {result}")
    return result[1]


def await_provisioned(admin: Client, tenant_id: str, seconds: float = 120.0) -> None:
    """``POST /`` answers 202 and provisions asynchronously: poll until the tenant is active."""
    deadline = time.monotonic() + seconds
    while expect(call(admin, "tenants", "GET", f"/{tenant_id}"), 200)["tenant"]["provisioning"]["status"] != "active":
        if time.monotonic() > deadline:
            raise RuntimeError(f"tenant {tenant_id} still provisioning after {seconds} s")
        time.sleep(0.1)


def cpf() -> str:
    base = f"{next(_numbers) % 1_000_000_000:09d}"
    base = base[:6] + ("123" if base[6:] in {"995", "996", "997", "998", "999"} else base[6:])
    return base + cpf_check_digits(base)


def body_for(category: str) -> dict[str, Any]:
    lookup = {"plate": "ABC1D23"} if category == "veicular" else {"document": cpf()}
    return {"category": category, "purpose": "benchmark", "legal_basis": "art7_V", **lookup}


def setup(stack: Any, clients: int = CLIENTS) -> tuple[Client, list[Client]]:
    """A tenant (with its default plugins), its owner and ``clients`` analysts with plenty of credits."""
    key_client = client_for(stack)
    provision_core(TablesDB(key_client))
    users = Users(key_client)
    admin = users.create(ID.unique(), email="bench-admin@example.com", password="password-123", name="Admin")
    users.update_labels(admin.id, ["admin"])
    admin_client = user_client(stack, admin.id)
    created = expect(call(admin_client, "tenants", "POST", "/", {
        "id": "bench", "name": "Bench", "owner_email": "bench-owner@example.com", "owner_name": "Owner"}), 202)
    await_provisioned(admin_client, "bench")
    owner = user_client(stack, created["owner"]["id"])
    analysts = []
    for n in range(clients):
        email = f"bench-{n}@example.com"
        expect(call(owner, "members", "POST", "/", {"email": email, "role": "analyst"}), 201)
        user_id = accept_invitation(stack, email)
        expect(call(owner, "billing", "POST", "/grants",
                    {"user_id": user_id, "credits": 1_000_000, "reason": "benchmark"}), 201)
        analysts.append(user_client(stack, user_id))
    return owner, analysts


def accept_invitation(stack: Any, email: str) -> str:
    """Play the invitation e-mail (the local stack's mailbox) and accept it as the invitee does."""
    mail = client_for(stack).call("get", "/local/invitations/last", {}, {"email": email})
    guest = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    Teams(guest).update_membership_status(mail["teamId"], mail["membershipId"], mail["userId"], mail["secret"])
    return str(mail["userId"])


def inside_plugins(calls: list[Call]) -> Counter[str]:
    """What the plugins and fontes call, by function and route (the step ``inside plugins``)."""
    return Counter(f"{c.function_id} {c.method} {c.table or c.pattern}" for c in calls if c.function_id != "consultas")


def run(report: Report) -> None:
    with private_stack() as stack:
        counting = Counting(stack.dispatcher.router)
        stack.dispatcher.observers.append(counting.observe)
        _, analysts = setup(stack)
        runner = analysts[0]
        for category in ("cadastral", "credito", "veicular"):
            expect(call(runner, "consultas", "POST", "/", body_for(category)), 201)  # warm the functions
            time.sleep(0.5)  # let the asynchronous event delivery of the warm-up settle
            calls_before, executions_before = counting.snapshot()
            counting.recording = True
            started = time.perf_counter()
            for _ in range(SAMPLES):
                expect(call(runner, "consultas", "POST", "/", body_for(category)), 201)
            elapsed = time.perf_counter() - started
            counting.recording = False
            calls, executions = counting.snapshot()
            steps = counting.steps()
            report.metric(f"{category}: Appwrite API calls per consulta", (calls - calls_before) / SAMPLES, "calls")
            report.metric(f"{category}: function executions per consulta", (executions - executions_before) / SAMPLES,
                          "execs")
            report.metric(f"{category}: latency (sequential, mean)", elapsed / SAMPLES * 1000, "ms")
            for step in STEPS:
                if steps.get(step):
                    report.metric(f"  {category}: calls per consulta, {step}", steps[step] / SAMPLES, "calls")
            for what, count in sorted(inside_plugins(counting.last).items()):
                report.metric(f"    {what}", count / SAMPLES, "calls")

        if os.environ.get("BENCH_CONSULTAS_SEQUENTIAL_ONLY"):  # the per-step counts only (a quick look)
            return
        by_function_before = Counter(counting.calls)
        latencies: list[float] = []
        lock = threading.Lock()

        def client_loop(client: Client) -> None:
            for _ in range(PER_CLIENT):
                started = time.perf_counter()
                expect(call(client, "consultas", "POST", "/", body_for("cadastral")), 201)
                with lock:
                    latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(client_loop, analysts))
        wall = time.perf_counter() - started
        total = CLIENTS * PER_CLIENT
        report.metric(f"cadastral: consultas per second ({CLIENTS} concurrent clients)", total / wall, "consultas/s")
        report.timings(f"cadastral latency ({CLIENTS} concurrent clients)", latencies)
        spent = Counter(counting.calls)
        spent.subtract(by_function_before)
        for function_id, count in sorted(spent.items()):
            if count:
                report.metric(f"  calls per consulta by {function_id} (concurrent)", count / total, "calls")
