"""Rows: ``/tablesdb/{databaseId}/tables/{tableId}/rows...``.

Direct writes run in one ``storage.write()`` and publish their events after it committed. With a
``transactionId`` a write is staged instead (see ``transactions.py``) and answers the row as the
transaction would leave it; reads with a ``transactionId`` see the staged changes.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from ..common import as_bool, resolve_id
from ..http import Request, Response, Router
from . import bulk, operators, store, transactions
from .schema import TableMeta
from .service import TablesService, created, no_content
from .validation import check_data


def register(svc: TablesService, router: Router) -> None:
    base = "/tablesdb/{databaseId}/tables/{tableId}/rows"

    def _stage(request: Request, op: dict, preview: bool = True) -> Any:
        target = (op["databaseId"], op["tableId"], op["rowId"]) if preview else None
        return transactions.stage(svc, request.param("transactionId"), [op], target)

    def list_rows(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803 - route names
        meta = svc.table(databaseId, tableId)
        plan = store.plan_for(meta, request.param("queries"))
        with_total = as_bool(request.param("total"), True)

        def read(conn: sqlite3.Connection) -> dict:
            rows = store.select(conn, meta, plan)
            return {"total": store.count(conn, meta, plan) if with_total else 0, "rows": rows}

        if request.param("transactionId"):
            return transactions.overlay(svc, request.param("transactionId"), read, meta)
        with svc.rows_read(meta) as conn:
            return read(conn)

    def get_row(request: Request, databaseId: str, tableId: str, rowId: str) -> dict:  # noqa: N803
        meta = svc.table(databaseId, tableId)
        selection = store.plan_for(meta, request.param("queries")).select
        selection = None if selection is None or "*" in selection else selection
        if request.param("transactionId"):
            row = transactions.overlay(svc, request.param("transactionId"),
                                       lambda conn: store.fetch(conn, meta, rowId, selection), meta)
        else:
            with svc.rows_read(meta) as conn:
                row = store.fetch(conn, meta, rowId, selection)
        if row is None:
            raise store.row_not_found()
        return row

    def create_row(request: Request, databaseId: str, tableId: str) -> Response:  # noqa: N803
        meta = svc.table(databaseId, tableId)
        if request.param("rows") is not None:
            return created(_bulk(request, meta, "bulkCreate", request.param("rows"), bulk.create_many, "create"))
        row_id = resolve_id(request.param("rowId"), "rowId")
        data = check_data(request.param("data"))
        permissions = request.param("permissions")
        if request.param("transactionId"):
            data = data if permissions is None else {**data, "$permissions": permissions}
            return created(_stage(request, _op("create", meta, row_id, data)))
        with svc.rows_write(meta) as conn:
            row = store.insert(conn, meta, row_id, data, permissions)
        svc.publish("create", meta, row)
        return created(row)

    def write_row(action: str):  # type: ignore[no-untyped-def]
        apply = store.update if action == "update" else store.upsert

        def handler(request: Request, databaseId: str, tableId: str, rowId: str) -> Any:  # noqa: N803
            meta = svc.table(databaseId, tableId)
            data = check_data(request.param("data"))
            permissions = request.param("permissions")
            if request.param("transactionId") or action == "upsert":
                operators.refuse(meta, data, "a staged write" if request.param("transactionId") else "an upsert")
            if request.param("transactionId"):
                data = data if permissions is None else {**data, "$permissions": permissions}
                row = _stage(request, _op(action, meta, rowId, data))
            else:
                plain, changes = operators.split(meta, data)
                with svc.rows_write(meta) as conn:
                    if changes:  # DB operators: every change of this call in its one write (operators.py)
                        if store.version(conn, meta, rowId) is None:
                            raise store.row_not_found()
                        if plain or permissions is not None:
                            store.update(conn, meta, rowId, plain, permissions)
                        for key, (method, by, bound) in changes.items():
                            row = store.increment(conn, meta, rowId, key, by, bound, method == "decrement")
                    else:
                        row = apply(conn, meta, rowId, data, permissions)
                svc.publish(action, meta, row)
            return created(row) if action == "upsert" else row

        return handler

    def delete_row(request: Request, databaseId: str, tableId: str, rowId: str) -> Response:  # noqa: N803
        meta = svc.table(databaseId, tableId)
        if request.param("transactionId"):
            _stage(request, _op("delete", meta, rowId, None), preview=False)
            return no_content()
        with svc.rows_write(meta) as conn:
            row = store.delete(conn, meta, rowId)
        svc.publish("delete", meta, row)
        return no_content()

    def change(decrement: bool):  # type: ignore[no-untyped-def]
        def handler(request: Request, databaseId: str, tableId: str, rowId: str, column: str) -> dict:  # noqa: N803
            meta = svc.table(databaseId, tableId)
            bound = request.param("min" if decrement else "max")
            value = request.param("value")
            if request.param("transactionId"):
                data = {"column": column, "value": value, "min" if decrement else "max": bound}
                return _stage(request, _op("decrement" if decrement else "increment", meta, rowId, data))
            with svc.rows_write(meta) as conn:
                row = store.increment(conn, meta, rowId, column, value, bound, decrement)
            svc.publish("update", meta, row)
            return row

        return handler

    def _bulk(request: Request, meta: TableMeta, action: str, data: Any, apply: Any, event: str, *args: Any) -> dict:
        if request.param("transactionId"):
            _stage(request, _op(action, meta, None, data), preview=False)
            return {"total": 0, "rows": []}
        with svc.rows_write(meta) as conn:
            rows = apply(conn, meta, data, *args)
        for row in rows:
            svc.publish(event, meta, row)
        return {"total": len(rows), "rows": rows}

    def upsert_rows(request: Request, databaseId: str, tableId: str) -> Response:  # noqa: N803
        meta = svc.table(databaseId, tableId)
        return created(_bulk(request, meta, "bulkUpsert", request.param("rows"), bulk.upsert_many, "upsert"))

    def update_rows(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803
        meta = svc.table(databaseId, tableId)
        data, queries = request.param("data"), request.param("queries")
        if request.param("transactionId"):
            return _bulk(request, meta, "bulkUpdate", {"data": data, "queries": queries}, None, "update")
        return _bulk(request, meta, "bulkUpdate", data, bulk.update_matching, "update", queries)

    def delete_rows(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803
        meta = svc.table(databaseId, tableId)
        if request.param("transactionId"):
            return _bulk(request, meta, "bulkDelete", {"queries": request.param("queries")}, None, "delete")
        return _bulk(request, meta, "bulkDelete", request.param("queries"), bulk.delete_matching, "delete")

    router.add("GET", base, list_rows, scope="rows.read")
    router.add("POST", base, create_row, scope="rows.write")
    router.add("PUT", base, upsert_rows, scope="rows.write")
    router.add("PATCH", base, update_rows, scope="rows.write")
    router.add("DELETE", base, delete_rows, scope="rows.write")
    router.add("GET", base + "/{rowId}", get_row, scope="rows.read")
    router.add("PUT", base + "/{rowId}", write_row("upsert"), scope="rows.write")
    router.add("PATCH", base + "/{rowId}", write_row("update"), scope="rows.write")
    router.add("DELETE", base + "/{rowId}", delete_row, scope="rows.write")
    router.add("PATCH", base + "/{rowId}/{column}/increment", change(False), scope="rows.write")
    router.add("PATCH", base + "/{rowId}/{column}/decrement", change(True), scope="rows.write")


def _op(action: str, meta: TableMeta, row_id: str | None, data: Any) -> dict:
    if row_id is not None and action not in {"create", "upsert"}:
        row_id = str(row_id)
    return {"action": action, "databaseId": meta.database_id, "tableId": meta.id, "rowId": row_id, "data": data}
