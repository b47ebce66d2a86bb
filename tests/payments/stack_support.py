"""Local-stack helpers for the payment tests: guests calling webhooks, the relay's delivery to billing,
and direct reads of a tenant's tables (what changed, what did not)."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from appwrite.client import Client
from appwrite.enums.execution_method import ExecutionMethod
from appwrite.query import Query
from appwrite.services.functions import Functions
from appwrite.services.tables_db import TablesDB

from bigtech.bus.appwrite_rows import list_raw
from bigtech.outbox_writer import envelope_from_row
from tests.conftest import make_client
from tests.support.actors import Result, call

# Plugin secrets are sealed with this key (the stack runs functions in-process: they see os.environ).
os.environ.setdefault("BIGTECH_SECRETS_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")


def guest_call(stack: Any, function_id: str, path: str, raw_body: str, headers: dict[str, str] | None = None) -> Result:
    """What a gateway does: an unauthenticated execution (Appwrite's function domain needs ``execute: any``)."""
    client = Client().set_endpoint(stack.endpoint).set_project(stack.settings.project_id)
    execution = Functions(client).create_execution(function_id, body=raw_body, xasync=False, path=path,
                                                   method=ExecutionMethod.POST, headers=headers or {})
    text = execution.responsebody or ""
    try:
        parsed: Any = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Result(int(execution.responsestatuscode), parsed, {}, text)


def tables(stack: Any) -> TablesDB:
    return TablesDB(make_client(stack))


def rows(stack: Any, tenant_id: str, table: str, *queries: str) -> list[Any]:
    return tables(stack).list_rows(f"tenant_{tenant_id}", table, [*queries, Query.limit(500)], total=False).rows


def outbox(stack: Any, tenant_id: str, event_type: str | None = None) -> list[dict[str, Any]]:
    """Outbox rows as plain dicts: SDK 27's ``Row`` swallows a column named ``data``."""
    found = list_raw(tables(stack), f"tenant_{tenant_id}", "outbox", [Query.limit(500)])
    return [r for r in found if event_type is None or r.get("type") == event_type]


def event_data(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row.get("payload") or "{}")


def payment_events(stack: Any, tenant_id: str, order_id: str | None = None) -> list[dict[str, Any]]:
    found = [r for r in outbox(stack, tenant_id) if str(r.get("type")).startswith("payment.")]
    if order_id is not None:
        found = [r for r in found if event_data(r).get("order_id") == order_id]
    return found


def deliver(stack: Any, row: dict[str, Any]) -> Result:
    """What the relay does with one outbox row: POST the envelope to billing's ``/events`` with a key."""
    envelope = envelope_from_row(row["$id"], row)
    return call(stack, None, "billing", "POST", "/events", raw_body=envelope.to_json(),
                headers={"content-type": "application/json"})


def deliver_all(stack: Any, tenant_id: str, order_id: str | None = None) -> list[Result]:
    results = [deliver(stack, row) for row in sorted(payment_events(stack, tenant_id, order_id),
                                                     key=lambda r: r.get("occurred_at"))]
    assert all(r.status == 200 for r in results), results
    return results


def snapshot(stack: Any, tenant_id: str) -> dict[str, Any]:
    """Everything a webhook could change."""
    return {
        "outbox": sorted(r["$id"] for r in outbox(stack, tenant_id)),
        "processed": sorted(r.id for r in rows(stack, tenant_id, "processed_events")),
        "orders": sorted((r.id, r.data.get("status")) for r in rows(stack, tenant_id, "orders")),
        "wallets": sorted((r.id, r.data.get("balance")) for r in rows(stack, tenant_id, "wallets")),
    }


def balance(actor: Any) -> int:
    result = actor.call("billing", "GET", "/wallet")
    assert result.status == 200, result
    return int(result.body["wallet"]["balance"])


def order_status(actor: Any, order_id: str) -> str:
    result = actor.call("billing", "GET", f"/orders/{order_id}")
    assert result.status == 200, result
    return result.body["order"]["status"]


def insert_order(stack: Any, tenant_id: str, order_id: str, user_id: str, gateway: str, credits: int = 50,
                 amount_cents: int = 5000, method: str = "pix") -> None:
    """An order as ``POST /orders`` leaves it, for gateways the tests cannot reach (Asaas, Pagar.me)."""
    tables(stack).create_row(f"tenant_{tenant_id}", "orders", order_id, {
        "user_id": user_id, "package_id": "pkg-50", "credits": credits, "amount_cents": amount_cents,
        "method": method, "status": "pending", "gateway": gateway})


@dataclass
class JwksServer:
    """A local JWKS endpoint (the tests' stand-in for hubapi.pagar.me)."""

    document: dict[str, Any]
    server: ThreadingHTTPServer | None = None
    hits: int = 0

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"

    def __enter__(self) -> JwksServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        # A local receiver is reachable only when named in BIGTECH_OUTBOUND_ALLOW_HOSTS (docs/security.md).
        self._allow_before = os.environ.get("BIGTECH_OUTBOUND_ALLOW_HOSTS")
        os.environ["BIGTECH_OUTBOUND_ALLOW_HOSTS"] = ",".join(
            filter(None, [self._allow_before, f"127.0.0.1:{self.server.server_address[1]}"]))
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        if self._allow_before is None:
            os.environ.pop("BIGTECH_OUTBOUND_ALLOW_HOSTS", None)
        else:
            os.environ["BIGTECH_OUTBOUND_ALLOW_HOSTS"] = self._allow_before
        self.server.shutdown()
        self.server.server_close()
