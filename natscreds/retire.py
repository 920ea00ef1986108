"""Retiring the legacy ``nats_user_credential`` table (seed 002 step 4), and bringing it back.

This is the one place authcore deliberately changes a legacy table, and only on an
explicit command (``drop_legacy_nats_credentials``). The drop happens only after:

1. the NATS copy verifies and every credential passes its checks (``legacy.engine.nats``);
2. a complete backup is written and read back: the rows as JSON lines, the table's
   definition as the database reports it (columns, defaults, constraints, indexes, foreign
   keys from other tables, its sequence and grants), and a ``SHA256SUMS`` file;

all inside one transaction that holds the table locked, so no row can slip in between
the backup and the drop. ``restore`` recreates the table from the backup after checking
the checksums, and proves the reloaded rows identical by exporting them again.

PostgreSQL values are backed up in their text form (what ``pg_dump`` uses) and cast back
on restore, so every type survives exactly; SQLite values keep their storage class.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

FORMAT = "authcore-legacy-table-backup/1"
ROWS, MANIFEST, SUMS = "rows.jsonl", "manifest.json", "SHA256SUMS"
_INTEGER_TYPES = frozenset({"smallint", "integer", "bigint"})
# Types and names come from the database's own catalog; still, only plain SQL text is
# accepted back from a backup file.
_SAFE_TYPE = re.compile(r"[A-Za-z0-9 _,()\[\]\".]+")


class BackupError(Exception):
    """A backup that is missing, damaged, or does not fit this database."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool
    default: str | None


@dataclass(frozen=True)
class Backup:
    """What was written: where, how many rows, and the checksum of the rows file."""

    directory: Path
    table: str
    rows: int
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _rows(connection: BaseDatabaseWrapper, sql: str, params: list[Any] | None = None) -> list:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


# ---- reading a table's definition ------------------------------------------------------------


def definition(connection: BaseDatabaseWrapper, table: str) -> dict[str, Any]:
    """The table as the database defines it, enough to create it again."""
    if connection.vendor == "postgresql":
        return _postgres_definition(connection, table)
    if connection.vendor == "sqlite":
        return _sqlite_definition(connection, table)
    raise BackupError(f"backups are made on PostgreSQL or SQLite, not {connection.vendor}")


def _postgres_definition(connection: BaseDatabaseWrapper, table: str) -> dict[str, Any]:
    quoted = connection.ops.quote_name(table)
    columns = [
        Column(name, type_, not_null, default).__dict__
        for name, type_, not_null, default in _rows(
            connection,
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,"
            " pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a"
            " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
            " WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped"
            " ORDER BY a.attnum",
            [quoted],
        )
    ]
    identity = _rows(
        connection,
        "SELECT attname, attidentity FROM pg_attribute WHERE attrelid = %s::regclass"
        " AND attidentity <> ''",
        [quoted],
    )
    constraints = [
        {"name": name, "definition": sql}
        for name, sql in _rows(
            connection,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('p', 'u', 'c', 'x', 'f')"
            " ORDER BY contype = 'f', conname",
            [quoted],
        )
    ]
    indexes = [
        sql
        for (sql,) in _rows(
            connection,
            "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " WHERE i.indrelid = %s::regclass AND NOT EXISTS"
            " (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid"
            " AND c.conrelid = i.indrelid) ORDER BY i.indexrelid",
            [quoted],
        )
    ]
    referencing = [
        {"table": other, "name": name, "definition": sql}
        for other, name, sql in _rows(
            connection,
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE confrelid = %s::regclass AND contype = 'f'"
            " AND conrelid <> confrelid ORDER BY conname",
            [quoted],
        )
    ]
    sequences = []
    for column in columns:
        (sequence,) = _rows(
            connection, "SELECT pg_get_serial_sequence(%s, %s)", [quoted, column["name"]]
        )[0]
        if sequence is None:
            continue
        last_value, is_called = _rows(connection, f"SELECT last_value, is_called FROM {sequence}")[
            0
        ]
        sequences.append(
            {
                "column": column["name"],
                "name": sequence,
                "last_value": last_value,
                "is_called": is_called,
                "grants": _grants(connection, sequence),
            }
        )
    (owner,) = _rows(
        connection,
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = %s::regclass",
        [quoted],
    )[0]
    primary = [
        name
        for (name,) in _rows(
            connection,
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary"
            " ORDER BY array_position(i.indkey, a.attnum)",
            [quoted],
        )
    ]
    return {
        "columns": columns,
        "identity": dict(identity),
        "constraints": constraints,
        "indexes": indexes,
        "referencing": referencing,
        "sequences": sequences,
        "owner": owner,
        "grants": _grants(connection, quoted),
        "order_by": primary or [c["name"] for c in columns],
    }


def _grants(connection: BaseDatabaseWrapper, relation: str) -> list[dict[str, str]]:
    """Privileges granted on a table or sequence to others than its owner."""
    return [
        {"grantee": grantee, "privilege": privilege}
        for grantee, privilege in _rows(
            connection,
            "SELECT CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g.grantee) END,"
            " g.privilege_type FROM pg_class c, aclexplode(c.relacl) g"
            " WHERE c.oid = %s::regclass AND g.grantee <> c.relowner"
            " ORDER BY 1, 2",
            [relation],
        )
    ]


def _sqlite_definition(connection: BaseDatabaseWrapper, table: str) -> dict[str, Any]:
    entries = _rows(
        connection,
        "SELECT type, sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL"
        " ORDER BY type = 'index', name",
        [table],
    )
    info = _rows(connection, f"PRAGMA table_info({connection.ops.quote_name(table)})")
    columns = [
        Column(name, type_ or "", bool(not_null), default).__dict__
        for _, name, type_, not_null, default, _ in info
    ]
    primary = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]
    return {
        "columns": columns,
        "create_table": next(sql for kind, sql in entries if kind == "table"),
        "indexes": [sql for kind, sql in entries if kind == "index"],
        "order_by": primary or [c["name"] for c in columns],
    }


# ---- writing and checking a backup -----------------------------------------------------------


def _select_sql(connection: BaseDatabaseWrapper, table: str, manifest: dict[str, Any]) -> str:
    """Every row, in a fixed order, in the form the backup stores."""
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # Text output: exactly what CAST(... AS type) reads back.
        columns = ", ".join(f"{quote(c['name'])}::text" for c in manifest["columns"])
    else:
        # "+col" is not a column reference, so no type converter rewrites the stored value.
        columns = ", ".join(f"+{quote(c['name'])}" for c in manifest["columns"])
    order = ", ".join(quote(name) for name in manifest["order_by"])
    return f"SELECT {columns} FROM {quote(table)} ORDER BY {order}"


def _encode(value: Any, type_: str) -> Any:
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, str) and type_ in _INTEGER_TYPES:
        return int(value)
    if isinstance(value, str) and type_ == "boolean":
        return value == "t"
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"$bytes"}:
        return base64.b64decode(value["$bytes"])
    return value


def _export(
    connection: BaseDatabaseWrapper, table: str, manifest: dict[str, Any]
) -> Iterator[bytes]:
    """The table's rows as JSON lines (bytes), streamed."""
    names = [c["name"] for c in manifest["columns"]]
    types = [c["type"] for c in manifest["columns"]]
    with connection.chunked_cursor() as cursor:
        cursor.execute(_select_sql(connection, table, manifest))
        while batch := cursor.fetchmany(2000):
            for row in batch:
                record = {n: _encode(v, t) for n, v, t in zip(names, row, types, strict=True)}
                yield json.dumps(record, ensure_ascii=False, sort_keys=False).encode() + b"\n"


def write_backup(
    connection: BaseDatabaseWrapper, table: str, directory: Path, *, key: str
) -> Backup:
    """Write the rows, the definition and the checksums of ``table`` into ``directory``.

    The directory must not exist yet; it and its files are readable by the owner only
    (the rows hold seed hashes).
    """
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "table": table,
        "vendor": connection.vendor,
        "created_at": datetime.now(tz=UTC).isoformat(),
        **definition(connection, table),
    }
    directory.mkdir(parents=True, mode=0o700)
    rows_path = directory / ROWS
    count = 0
    fd = os.open(rows_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for line in _export(connection, table, manifest):
            handle.write(line)
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    manifest["rows"] = count
    manifest["rows_sha256"] = _sha256(rows_path)
    _write_private(directory / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
    sums = "".join(f"{_sha256(directory / name)}  {name}\n" for name in (ROWS, MANIFEST))
    _write_private(directory / SUMS, sums.encode())
    return Backup(directory=directory, table=table, rows=count, sha256=manifest["rows_sha256"])


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def check_backup(directory: Path) -> dict[str, Any]:
    """Check a backup's checksums and row count; return its manifest. Raises BackupError."""
    sums_path = directory / SUMS
    if not sums_path.is_file():
        raise BackupError(f"{sums_path} is missing: not a backup directory")
    expected = {}
    for line in sums_path.read_text().splitlines():
        digest, _, name = line.partition("  ")
        expected[name] = digest
    for name in (ROWS, MANIFEST):
        path = directory / name
        if not path.is_file():
            raise BackupError(f"{path} is missing")
        if expected.get(name) != _sha256(path):
            raise BackupError(f"{path} does not match its checksum in {SUMS}: damaged")
    manifest = json.loads((directory / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    with (directory / ROWS).open("rb") as handle:
        lines = sum(1 for _ in handle)
    if lines != manifest["rows"]:
        raise BackupError(f"{ROWS} has {lines} rows, the manifest says {manifest['rows']}")
    return manifest


def exported_sha256(connection: BaseDatabaseWrapper, table: str, manifest: dict[str, Any]) -> str:
    """The checksum the table's rows would have in a backup made now."""
    digest = hashlib.sha256()
    for line in _export(connection, table, manifest):
        digest.update(line)
    return digest.hexdigest()


# ---- dropping and restoring --------------------------------------------------------------------


def lock(connection: BaseDatabaseWrapper, table: str) -> None:
    """Keep every other session off the table until the transaction ends (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(table)} IN ACCESS EXCLUSIVE MODE"
            )


def drop(connection: BaseDatabaseWrapper, table: str, manifest: dict[str, Any]) -> None:
    """Drop ``table``: first the foreign keys of other tables that point at it (recorded in
    the backup), never CASCADE, so anything else that depends on it stops the drop."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for fk in manifest.get("referencing", []):
            other = _safe(fk["table"], "table")
            cursor.execute(f"ALTER TABLE {other} DROP CONSTRAINT {quote(fk['name'])}")
        cursor.execute(f"DROP TABLE {quote(table)}")


def _safe(text: str, what: str) -> str:
    if not _SAFE_TYPE.fullmatch(text):
        raise BackupError(f"the backup's {what} {text!r} is not plain SQL")
    return text


def _create_postgres(connection: BaseDatabaseWrapper, table: str, m: dict[str, Any]) -> None:
    quote = connection.ops.quote_name
    name = quote(table)
    with connection.cursor() as cursor:
        for sequence in m["sequences"]:
            cursor.execute(f"CREATE SEQUENCE IF NOT EXISTS {_safe(sequence['name'], 'sequence')}")
        columns = []
        for column in m["columns"]:
            sql = f"{quote(column['name'])} {_safe(column['type'], 'type')}"
            identity = m["identity"].get(column["name"])
            if identity:
                sql += f" GENERATED {'ALWAYS' if identity == 'a' else 'BY DEFAULT'} AS IDENTITY"
            elif column["default"] is not None:
                sql += f" DEFAULT {column['default']}"
            if column["not_null"]:
                sql += " NOT NULL"
            columns.append(sql)
        cursor.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
        cursor.execute("SELECT current_user")
        if m["owner"] and m["owner"] != cursor.fetchone()[0]:
            cursor.execute(f"ALTER TABLE {name} OWNER TO {quote(m['owner'])}")


def _finish_postgres(connection: BaseDatabaseWrapper, table: str, m: dict[str, Any]) -> None:
    """Constraints, indexes, foreign keys into the table, sequence position, grants."""
    quote = connection.ops.quote_name
    name = quote(table)
    with connection.cursor() as cursor:
        for constraint in m["constraints"]:
            cursor.execute(
                f"ALTER TABLE {name} ADD CONSTRAINT {quote(constraint['name'])}"
                f" {constraint['definition']}"
            )
        for index in m["indexes"]:
            cursor.execute(index)
        for fk in m["referencing"]:
            other = _safe(fk["table"], "table")
            cursor.execute(
                f"ALTER TABLE {other} ADD CONSTRAINT {quote(fk['name'])} {fk['definition']}"
            )
        for sequence in m["sequences"]:
            seq = _safe(sequence["name"], "sequence")
            if not m["identity"].get(sequence["column"]):
                cursor.execute(f"ALTER SEQUENCE {seq} OWNED BY {name}.{quote(sequence['column'])}")
            cursor.execute(
                "SELECT setval(%s, %s, %s)",
                [seq, sequence["last_value"], sequence["is_called"]],
            )
            _grant(cursor, quote, f"SEQUENCE {seq}", sequence["grants"])
        _grant(cursor, quote, f"TABLE {name}", m["grants"])


def _grant(cursor: Any, quote: Any, target: str, grants: list[dict[str, str]]) -> None:
    for grant in grants:
        grantee = "PUBLIC" if grant["grantee"] == "PUBLIC" else quote(grant["grantee"])
        cursor.execute(f"GRANT {_safe(grant['privilege'], 'privilege')} ON {target} TO {grantee}")


def restore(connection: BaseDatabaseWrapper, directory: Path, *, batch: int = 500) -> Backup:
    """Recreate the backed-up table and reload its rows; call inside a transaction.

    Refuses a damaged backup, another database engine, or a table that exists. After the
    load, the rows are exported again and must give the backup's own checksum.
    """
    manifest = check_backup(directory)
    table = manifest["table"]
    if manifest["vendor"] != connection.vendor:
        raise BackupError(f"the backup is from {manifest['vendor']}, this is {connection.vendor}")
    with connection.cursor() as cursor:
        if table in connection.introspection.table_names(cursor):
            raise BackupError(f"table {table!r} exists: restore only into a database without it")
    if connection.vendor == "postgresql":
        _create_postgres(connection, table, manifest)
    else:
        with connection.cursor() as cursor:
            cursor.execute(manifest["create_table"])
    _load(connection, table, manifest, directory / ROWS, batch)
    if connection.vendor == "postgresql":
        _finish_postgres(connection, table, manifest)
    else:
        with connection.cursor() as cursor:
            for index in manifest["indexes"]:
                cursor.execute(index)
    restored = exported_sha256(connection, table, manifest)
    if restored != manifest["rows_sha256"]:
        raise BackupError("the reloaded rows differ from the backup; nothing was restored")
    return Backup(directory=directory, table=table, rows=manifest["rows"], sha256=restored)


def _load(
    connection: BaseDatabaseWrapper, table: str, m: dict[str, Any], path: Path, batch: int
) -> None:
    quote = connection.ops.quote_name
    names = [c["name"] for c in m["columns"]]
    if connection.vendor == "postgresql":
        marks = [f"CAST(%s AS {_safe(c['type'], 'type')})" for c in m["columns"]]
    else:
        marks = ["%s"] * len(names)
    row_marks = f"({', '.join(marks)})"
    overriding = " OVERRIDING SYSTEM VALUE" if "a" in m.get("identity", {}).values() else ""
    head = f"INSERT INTO {quote(table)} ({', '.join(quote(n) for n in names)}){overriding} VALUES "
    per_statement = max(1, min(batch, 900 // max(len(names), 1)))  # old SQLite: 999 parameters
    pending: list[list[Any]] = []

    def flush() -> None:
        if pending:
            with connection.cursor() as cursor:
                cursor.execute(
                    head + ", ".join([row_marks] * len(pending)),
                    [value for row in pending for value in row],
                )
            pending.clear()

    with path.open("rb") as handle:
        for line in handle:
            record = json.loads(line)
            pending.append([_decode(record[name]) for name in names])
            if len(pending) >= per_statement:
                flush()
    flush()
