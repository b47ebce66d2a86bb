"""Executions kept in the stack's SQLite file (table ``aw_executions``), one JSON document each."""

from __future__ import annotations

from typing import Any

from ..common import dumps, loads
from ..storage import Storage

SCHEMA = """
CREATE TABLE IF NOT EXISTS aw_executions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    function_id TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS aw_executions_function ON aw_executions (function_id, seq);
"""


class ExecutionStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        storage.migrate(SCHEMA)

    def insert(self, doc: dict[str, Any]) -> None:
        with self.storage.write() as conn:
            conn.execute(
                "INSERT INTO aw_executions (id, function_id, doc) VALUES (?, ?, ?)",
                (doc["$id"], doc["functionId"], dumps(doc)),
            )

    def save(self, doc: dict[str, Any]) -> None:
        with self.storage.write() as conn:
            conn.execute("UPDATE aw_executions SET doc = ? WHERE id = ?", (dumps(doc), doc["$id"]))

    def get(self, function_id: str, execution_id: str) -> dict[str, Any] | None:
        with self.storage.read() as conn:
            row = conn.execute(
                "SELECT doc FROM aw_executions WHERE id = ? AND function_id = ?", (execution_id, function_id)
            ).fetchone()
        return loads(row["doc"]) if row else None

    def for_function(self, function_id: str) -> list[dict[str, Any]]:
        with self.storage.read() as conn:
            rows = conn.execute(
                "SELECT doc FROM aw_executions WHERE function_id = ? ORDER BY seq", (function_id,)
            ).fetchall()
        return [loads(row["doc"]) for row in rows]

    def delete(self, function_id: str, execution_id: str) -> bool:
        with self.storage.write() as conn:
            cursor = conn.execute(
                "DELETE FROM aw_executions WHERE id = ? AND function_id = ?", (execution_id, function_id)
            )
        return cursor.rowcount > 0
