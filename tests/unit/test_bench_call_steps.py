"""The benchmark's step names for a consulta's Appwrite calls (scripts/bench/call_steps.py): transactions
are told apart by what they stage, so the per-step counts in ``invoke bench`` mean what they say."""

from __future__ import annotations

from bench.call_steps import Call, Classifier, relay_step

TX = "/tablesdb/transactions"
OPS = "/tablesdb/transactions/{transactionId}/operations"
ONE_TX = "/tablesdb/transactions/{transactionId}"
ROWS = "/tablesdb/{databaseId}/tables/{tableId}/rows/{rowId}"


def transaction(tx_id: str, tables: list[str]) -> list[Call]:
    operations = [{"action": "update", "tableId": table, "rowId": "r"} for table in tables]
    return [Call("consultas", "POST", TX, {}, {}, {"$id": tx_id}),
            Call("consultas", "POST", OPS, {"transactionId": tx_id}, {"operations": operations}),
            Call("consultas", "PATCH", ONE_TX, {"transactionId": tx_id}, {"commit": True})]


def test_each_transaction_is_named_by_what_it_stages():
    calls = [
        Call("consultas", "GET", "/users/{userId}/memberships", {"userId": "u"}),
        Call("consultas", "GET", ROWS, {"databaseId": "core", "tableId": "tenants", "rowId": "t"}),
        *transaction("hold", ["wallets", "wallets", "ledger"]),
        Call("consultas", "POST", "/functions/{functionId}/executions", {"functionId": "consulta-cadastral"}),
        Call("consulta-cadastral", "GET", "/tablesdb/{databaseId}/tables/{tableId}/rows",
             {"databaseId": "core", "tableId": "provider_health"}),
        *transaction("settle", ["ledger", "wallets", "audit", "consultas", "outbox"]),
        Call("consultas", "GET", ROWS, {"databaseId": "tenant_t", "tableId": "audit_head", "rowId": "head"}),
        *transaction("seal", ["audit", "audit_head", "audit_head"]),
        Call("consultas", "POST", "/tablesdb/{databaseId}/tables/{tableId}/rows",
             {"databaseId": "core", "tableId": "audit_checkpoints"}),
    ]
    steps = Classifier().steps_of(calls)
    assert steps == {"identity": 1, "tenant+settings": 1, "reservation": 3, "plugin execution": 1,
                     "inside plugins": 1, "transaction create": 1, "transaction stage": 1, "transaction commit": 1,
                     "audit sealing": 4, "audit checkpoint": 1}


def test_the_relays_calls_are_named_by_step():
    table_rows = "/tablesdb/{databaseId}/tables/{tableId}/rows"

    def rows(method: str, table: str, body: object = None, pattern: str = table_rows) -> Call:
        return Call("relay", method, pattern, {"databaseId": "tenant_t", "tableId": table, "rowId": "r"}, body)

    calls = {
        "registry": [Call("relay", "GET", "/functions", {}), rows("GET", "plugin_catalog", {"total": "false"})],
        "pending markers": [rows("GET", "outbox_pending"), rows("DELETE", "outbox_pending")],
        "outbox list": [rows("GET", "outbox", {"queries": [], "total": "false"})],
        "pending count": [rows("GET", "outbox", {"queries": []})],
        "claim (increment)": [rows("PATCH", "outbox", None, table_rows + "/{rowId}/{column}/increment")],
        "claim (transaction)": [Call("relay", "POST", TX, {}), Call("relay", "PATCH", ONE_TX, {"transactionId": "x"})],
        "mark published / release": [rows("PATCH", "outbox", {"data": {"status": "published"}})],
        "delivery look-up": [rows("GET", "deliveries")],
        "delivery records": [rows("PUT", "deliveries", None, table_rows + "/{rowId}")],
        "subscriber executions": [Call("relay", "POST", "/functions/{functionId}/executions", {"functionId": "ops"})],
    }
    assert {step: {relay_step(c) for c in group} for step, group in calls.items()} == {
        step: {step} for step in calls}
