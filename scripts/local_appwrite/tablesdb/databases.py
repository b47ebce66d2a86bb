"""Databases and tables: ``/tablesdb``, ``/tablesdb/{databaseId}``, ``/tablesdb/{databaseId}/tables...``."""

from __future__ import annotations

from ..common import as_bool, dumps, now_iso, resolve_id
from ..errors import AppwriteError
from ..http import Request, Response, Router
from . import listing
from .columns import TYPES, add_column, build_spec
from .indexes import add_index
from .queries import Field
from .schema import Column, check_key, create_physical_table, drop_physical_table, load_table, require_database
from .serialize import database_json, table_json
from .service import TablesService, created, no_content

_META_FIELDS = {
    "$id": Field("id", "string"),
    "name": Field("name", "string"),
    "enabled": Field("enabled", "boolean"),
    "$createdAt": Field("created", "datetime"),
    "$updatedAt": Field("updated", "datetime"),
}
_TABLE_FIELDS = {**_META_FIELDS, "rowSecurity": Field("row_security", "boolean")}
# create_table(columns=[{"type": ...}]) uses storage types; map them to the column routes' names
_COLUMN_ROUTE = {"double": "float", "bigint": "integer", **{name: name for name in TYPES}}


def _name(request: Request, required: bool = True) -> str | None:
    name = request.require("name") if required else request.param("name")
    if name is not None and (not isinstance(name, str) or len(name) > 128):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `name` param: Value must be a valid string and "
                            "at least 1 chars and no longer than 128 chars")
    return name


def register(svc: TablesService, router: Router) -> None:
    def list_databases(request: Request) -> dict:
        with svc.storage.read() as conn:
            return listing.list_rows(conn, "tdb_databases", _META_FIELDS, request.params, database_json, "databases")

    def create_database(request: Request) -> Response:
        database_id = check_key(resolve_id(request.param("databaseId")), "databaseId")
        name, now = _name(request), now_iso()
        with svc.storage.write() as conn:
            if conn.execute("SELECT 1 FROM tdb_databases WHERE id = ?", (database_id,)).fetchone():
                raise AppwriteError(409, "database_already_exists", "Database already exists")
            conn.execute(
                "INSERT INTO tdb_databases (id, name, description, enabled, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (database_id, name, request.param("description") or "", int(as_bool(request.param("enabled"), True)),
                 now, now),
            )
            conn.execute("DELETE FROM tdb_files WHERE database_id = ?", (database_id,))  # an older stack's leftover
            file = conn.execute("INSERT INTO tdb_files (database_id) VALUES (?)", (database_id,)).lastrowid
            svc.storage.create_file(svc.path(file))  # type: ignore[arg-type]  # before the commit makes it visible
            body = database_json(require_database(conn, database_id))
        svc.invalidate(database_id)
        return created(body)

    def get_database(request: Request, databaseId: str) -> dict:  # noqa: N803 - route names
        with svc.storage.read() as conn:
            return database_json(require_database(conn, databaseId))

    def update_database(request: Request, databaseId: str) -> dict:  # noqa: N803
        with svc.storage.write() as conn:
            row = require_database(conn, databaseId)
            conn.execute(
                "UPDATE tdb_databases SET name = ?, description = ?, enabled = ?, updated = ? WHERE id = ?",
                (_name(request, False) or row["name"], request.param("description", row["description"]) or "",
                 int(as_bool(request.param("enabled"), bool(row["enabled"]))), now_iso(), databaseId),
            )
            return database_json(require_database(conn, databaseId))

    def delete_database(request: Request, databaseId: str) -> Response:  # noqa: N803
        with svc.storage.write() as conn:
            require_database(conn, databaseId)
            file = conn.execute("SELECT seq FROM tdb_files WHERE database_id = ?", (databaseId,)).fetchone()
            for row in conn.execute("SELECT seq FROM tdb_tables WHERE database_id = ?", (databaseId,)).fetchall():
                drop_physical_table(conn, row["seq"], physical=file is None)  # its own file goes as a whole
            conn.execute("DELETE FROM tdb_tables WHERE database_id = ?", (databaseId,))
            conn.execute("DELETE FROM tdb_files WHERE database_id = ?", (databaseId,))
            conn.execute("DELETE FROM tdb_databases WHERE id = ?", (databaseId,))
        svc.invalidate(databaseId)
        if file is not None:
            svc.storage.drop_file(svc.path(file[0]))
        return no_content()

    def list_tables(request: Request, databaseId: str) -> dict:  # noqa: N803
        with svc.storage.read() as conn:
            require_database(conn, databaseId)
            return listing.list_rows(
                conn, "tdb_tables", _TABLE_FIELDS, request.params,
                lambda row: table_json(load_table(conn, databaseId, row["id"])), "tables",
                scope=("database_id = ?", [databaseId]),
            )

    def create_table(request: Request, databaseId: str) -> Response:  # noqa: N803
        """Appwrite 1.9's create table, ``columns`` and ``indexes`` inline: all or nothing, in one SQL
        ``CREATE TABLE`` (the columns) plus one ``CREATE INDEX`` per index."""
        table_id = check_key(resolve_id(request.param("tableId")), "tableId")
        name, now = _name(request), now_iso()
        columns = _column_defs(request.param("columns"))
        indexes = request.param("indexes") or []
        if not isinstance(indexes, list) or not all(isinstance(i, dict) for i in indexes):
            raise AppwriteError(400, "general_argument_invalid", "Invalid `indexes` param: Value must be an array "
                                "of objects")
        with svc.storage.write() as conn:
            require_database(conn, databaseId)
            schema = svc.attach_database(conn, databaseId)
            exists = "SELECT 1 FROM tdb_tables WHERE database_id = ? AND id = ?"
            if conn.execute(exists, (databaseId, table_id)).fetchone():
                raise AppwriteError(409, "table_already_exists", "A table with the requested ID already exists.")
            cursor = conn.execute(
                "INSERT INTO tdb_tables (database_id, id, name, description, enabled, row_security, permissions, "
                "created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (databaseId, table_id, name, request.param("description") or "",
                 int(as_bool(request.param("enabled"), True)), int(as_bool(request.param("rowSecurity"), False)),
                 dumps(_permissions(request)), now, now),
            )
            probes = [Column(key, spec["type"], spec["format"], spec["required"], spec["array"], None, spec, now, now)
                      for key, spec in columns]
            create_physical_table(conn, cursor.lastrowid, probes, schema)  # type: ignore[arg-type]
            meta = load_table(conn, databaseId, table_id)
            for key, spec in columns:
                add_column(conn, meta, key, spec, alter=False)
            for index in indexes:
                add_index(conn, meta, check_key(index.get("key")), index.get("type"), index.get("attributes")
                          or index.get("columns"), index.get("orders") or [], index.get("lengths") or [])
            body = table_json(load_table(conn, databaseId, table_id))
        svc.invalidate(databaseId, table_id)
        return created(body)

    def get_table(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803
        return table_json(svc.table(databaseId, tableId))

    def update_table(request: Request, databaseId: str, tableId: str) -> dict:  # noqa: N803
        with svc.storage.write() as conn:
            meta = load_table(conn, databaseId, tableId)
            permissions = _permissions(request) if request.param("permissions") is not None else meta.permissions
            conn.execute(
                "UPDATE tdb_tables SET name = ?, description = ?, enabled = ?, row_security = ?, permissions = ?, "
                "updated = ? WHERE seq = ?",
                (_name(request, False) or meta.name, request.param("description", meta.description) or "",
                 int(as_bool(request.param("enabled"), meta.enabled)),
                 int(as_bool(request.param("rowSecurity"), meta.row_security)), dumps(permissions), now_iso(),
                 meta.seq),
            )
            body = table_json(load_table(conn, databaseId, tableId))
        svc.invalidate(databaseId, tableId)
        return body

    def delete_table(request: Request, databaseId: str, tableId: str) -> Response:  # noqa: N803
        with svc.schema_write(databaseId) as conn:
            meta = load_table(conn, databaseId, tableId)
            drop_physical_table(conn, meta.seq)
            conn.execute("DELETE FROM tdb_tables WHERE seq = ?", (meta.seq,))
        svc.invalidate(databaseId, tableId)
        return no_content()

    router.add("GET", "/tablesdb", list_databases, scope="databases.read")
    router.add("POST", "/tablesdb", create_database, scope="databases.write")
    router.add("GET", "/tablesdb/{databaseId}", get_database, scope="databases.read")
    router.add("PUT", "/tablesdb/{databaseId}", update_database, scope="databases.write")
    router.add("DELETE", "/tablesdb/{databaseId}", delete_database, scope="databases.write")
    router.add("GET", "/tablesdb/{databaseId}/tables", list_tables, scope="tables.read")
    router.add("POST", "/tablesdb/{databaseId}/tables", create_table, scope="tables.write")
    router.add("GET", "/tablesdb/{databaseId}/tables/{tableId}", get_table, scope="tables.read")
    router.add("PUT", "/tablesdb/{databaseId}/tables/{tableId}", update_table, scope="tables.write")
    router.add("DELETE", "/tablesdb/{databaseId}/tables/{tableId}", delete_table, scope="tables.write")


def _permissions(request: Request) -> list[str]:
    permissions = request.param("permissions") or []
    if not isinstance(permissions, list) or not all(isinstance(p, str) for p in permissions):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `permissions` param: Value must be an array")
    return list(dict.fromkeys(permissions))


def _column_defs(value: object) -> list[tuple[str, dict]]:
    """Validate inline column definitions into (key, stored spec), before anything is written."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise AppwriteError(400, "general_argument_invalid", "Invalid `columns` param: Value must be an array")
    out: list[tuple[str, dict]] = []
    seen: set[str] = set()
    for column in value:
        route_type = _COLUMN_ROUTE.get(column.get("type")) if isinstance(column, dict) else None
        if route_type is None or not isinstance(column, dict):
            raise AppwriteError(400, "column_type_invalid", f"Invalid column definition: {column!r}")
        if column.get("format") in {"email", "url", "ip", "enum"}:
            route_type = column["format"]
        key = check_key(column.get("key"))
        if key.lower() in seen:
            raise AppwriteError(400, "general_argument_invalid", f"Duplicate column key: {key}")
        seen.add(key.lower())
        out.append((key, build_spec(route_type, column)))
    return out
