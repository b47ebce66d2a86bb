"""What a consulta no longer spends Appwrite calls on, and what stays guaranteed: its audit entry is written
unsealed with the tenant's sweep marker in the settlement's transaction and sealed later (by the sweep, or
the tenant's next sealed change), and its idempotency claim is created in the reservation's transaction (no
call of its own)."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from appwrite.services.tables_db import TablesDB

from bigtech import sweeps
from bigtech.audit import AuditTrail, seal_all, verify_trail
from bigtech.documents import cpf_check_digits
from tests.conftest import make_client
from tests.support.actors import add_member, create_tenant, platform_admin, tenant_id_for

BODY = {"category": "cadastral", "purpose": "onboarding/KYC", "legal_basis": "art7_V",
        "document": "529982247" + cpf_check_digits("529982247")}


@pytest.fixture(scope="module")
def tenant(stack):
    tenant_id, owner = create_tenant(stack, platform_admin(stack), tenant_id_for("cc"))
    analyst = add_member(owner, "analyst")
    assert owner.call("billing", "POST", "/grants",
                      {"user_id": analyst.user_id, "credits": 5000, "reason": "tests"}).status == 201
    return tenant_id, owner, analyst


@contextmanager
def consultas_calls(stack):
    """The paths the consultas function asks the stack for (its ephemeral key), in order."""
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def observe(request, route, response):
        caller = getattr(request, "caller", None)
        if caller is not None and caller.kind == "ephemeral" and caller.function_id == "consultas":
            with lock:
                seen.append((request.method, request.path))

    stack.dispatcher.observers.append(observe)
    try:
        yield seen
    finally:
        stack.dispatcher.observers.remove(observe)


def marked_for_the_audit_sweep(tables, tenant_id):
    return f"tenant_{tenant_id}" in sweeps.due(tables, sweeps.AUDIT)


def test_the_entry_is_written_unsealed_with_a_marker_then_swept(stack, tenant):
    tenant_id, owner, analyst = tenant
    with consultas_calls(stack) as seen:
        done = analyst.call("consultas", "POST", "/", BODY)
    assert done.status == 201, done
    assert not [path for _, path in seen if "/audit" in path], seen  # no head, no seal, no checkpoint

    tables = TablesDB(make_client(stack))
    trail = AuditTrail.tenant(f"tenant_{tenant_id}")
    entry = tables.get_row(trail.database_id, trail.table_id, done.body["consulta"]["audit_id"]).data
    assert entry["action"] == "consultas.create" and entry["seq"] is None
    assert marked_for_the_audit_sweep(tables, tenant_id)

    # waiting for the sweep is normal for an unsealed entry; past the sweep's grace it is a fault
    assert verify_trail(tables, trail, now=datetime.now(UTC) + timedelta(minutes=5)).ok
    late = verify_trail(tables, trail, now=datetime.now(UTC) + timedelta(minutes=20))
    assert (late.ok, late.reason) == (False, "unsealed")

    assert seal_all(tables, [trail])["errors"] == []
    assert tables.get_row(trail.database_id, trail.table_id, done.body["consulta"]["audit_id"]).data["seq"]
    assert owner.call("audit", "GET", "/verify").body["ok"] is True


def test_the_next_sealed_change_seals_the_consultas_before_it(stack, tenant):
    tenant_id, owner, analyst = tenant
    first = analyst.call("consultas", "POST", "/", BODY)
    granted = owner.call("billing", "POST", "/grants", {"user_id": analyst.user_id, "credits": 1, "reason": "top-up"})
    assert first.status == granted.status == 201
    tables = TablesDB(make_client(stack))
    sealed = tables.get_row(f"tenant_{tenant_id}", "audit", first.body["consulta"]["audit_id"]).data["seq"]
    assert sealed and sealed < tables.get_row(f"tenant_{tenant_id}", "audit", granted.body["audit_id"]).data["seq"]


def test_a_keyed_consulta_takes_its_key_in_the_reservation(stack, tenant):
    _, _, analyst = tenant
    with consultas_calls(stack) as seen:
        first = analyst.call("consultas", "POST", "/", BODY, headers={"idempotency-key": "calls-1"})
    assert first.status == 201, first
    assert not [path for _, path in seen if "/tables/idempotency/" in path], seen
    again = analyst.call("consultas", "POST", "/", BODY, headers={"idempotency-key": "calls-1"})
    assert again.status == 201 and again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"


def test_a_replay_wins_over_a_refusal_that_comes_first(stack, tenant):
    """The key is checked when anything before the reservation's transaction refuses, so a retry of a
    consulta that spent the last credits still gets its first answer, not 402."""
    _, owner, _ = tenant
    spender = add_member(owner, "analyst")
    assert owner.call("billing", "POST", "/grants",
                      {"user_id": spender.user_id, "credits": 100, "reason": "exactly one"}).status == 201
    first = spender.call("consultas", "POST", "/", BODY, headers={"idempotency-key": "last-credits"})
    assert first.status == 201 and first.body["consulta"]["cost_credits"] == 100, first
    again = spender.call("consultas", "POST", "/", BODY, headers={"idempotency-key": "last-credits"})
    assert again.status == 201 and again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"
    other = spender.call("consultas", "POST", "/", BODY, headers={"idempotency-key": "no-credits"})
    assert other.status == 402 and other.error_code == "insufficient_credits"
    reused = spender.call("consultas", "POST", "/", {**BODY, "purpose": "another"},
                          headers={"idempotency-key": "last-credits"})
    assert reused.status == 422 and reused.error_code == "idempotency_key_reused"
